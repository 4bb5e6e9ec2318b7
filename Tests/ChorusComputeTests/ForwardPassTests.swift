import Testing
import ChorusCrypto
@testable import ChorusCompute

/// Largest |a − b| over two equally shaped lists of rows.
func maxDifference(_ a: FloatMatrix, _ b: [[Double]]) -> Double {
    var worst = 0.0
    for r in 0..<a.rows {
        for (x, y) in zip(a[r], b[r]) { worst = max(worst, abs(Double(x) - y)) }
    }
    return worst
}

func maxDifference(_ a: FloatMatrix, _ b: FloatMatrix) -> Float {
    precondition(a.rows == b.rows && a.columns == b.columns)
    return zip(a.values, b.values).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Synthetic models shared by the tests (built once; models are immutable and Sendable).
enum TestModels {
    static let tinySpec = SyntheticModel(config: .syntheticTiny, seed: Blake2b.hash256(Array("tiny".utf8)))
    static let smallSpec = SyntheticModel(config: .syntheticSmall, seed: Blake2b.hash256(Array("small".utf8)))
    static let tiny: LlamaModel = try! tinySpec.build()  // fixed, valid test configuration
    static let small: LlamaModel = try! smallSpec.build()

    static func tokens(_ count: Int, salt: Int = 0) -> [Int] {
        (0..<count).map { ($0 * 37 + salt * 101 + 11) % 256 }
    }
}

@Suite struct ForwardPassTests {
    @Test(arguments: [(TestModels.tinySpec, 9), (TestModels.smallSpec, 9), (TestModels.tinySpec, 300)])
    func matchesNaiveFp64Reference(spec: SyntheticModel, length: Int) throws {
        let model = spec == TestModels.tinySpec ? TestModels.tiny : TestModels.small
        let tokens = TestModels.tokens(length)
        let out = try model.forward([ForwardSequence(tokens: tokens, logits: .all)])
        let reference = ReferenceLlamaForTests(spec).logits(tokens: tokens)
        #expect(out.logits[0].rows == length)
        #expect(maxDifference(out.logits[0], reference) < 2e-4)
    }

    @Test func referenceWithoutUnpermutingDisagrees() throws {
        // Sanity check of the check above: HF-order RoPE on GGUF-order rows gives other logits.
        var reference = ReferenceLlamaForTests(TestModels.tinySpec)
        reference.unpermuteQK = false
        let tokens = TestModels.tokens(9)
        let out = try TestModels.tiny.forward([ForwardSequence(tokens: tokens, logits: .all)])
        #expect(maxDifference(out.logits[0], reference.logits(tokens: tokens)) > 1e-2)
    }

    @Test func batchedEqualsOneByOne() throws {
        let model = TestModels.small
        let inputs = [TestModels.tokens(5, salt: 1), TestModels.tokens(1, salt: 2), TestModels.tokens(17, salt: 3), TestModels.tokens(3, salt: 4)]
        let batched = try model.forward(inputs.map { ForwardSequence(tokens: $0, logits: .all, hidden: .last) })
        for (s, tokens) in inputs.enumerated() {
            let alone = try model.forward([ForwardSequence(tokens: tokens, logits: .all, hidden: .last)])
            #expect(maxDifference(batched.logits[s], alone.logits[0]) < 1e-5)
            #expect(maxDifference(batched.hidden[s], alone.hidden[0]) < 1e-5)
        }
    }

    @Test func incrementalWithCacheEqualsFullRecompute() throws {
        let model = TestModels.tiny
        let tokens = TestModels.tokens(300, salt: 5)  // crosses the 256-row attention block
        let full = try model.forward([ForwardSequence(tokens: tokens, logits: .all)]).logits[0]

        let cache = try KVCache(model: model, capacity: 320)
        var got: [Float] = []
        var at = 0
        for chunk in [260, 1, 3, 1, 35] {
            let out = try model.forward([ForwardSequence(tokens: Array(tokens[at..<(at + chunk)]), cache: cache, logits: .all)])
            got += out.logits[0].values
            at += chunk
            #expect(cache.count == at)
        }
        let incremental = FloatMatrix(rows: tokens.count, columns: full.columns, values: got)
        #expect(maxDifference(full, incremental) < 1e-4)
    }

    @Test func batchedDecodeStepEqualsSeparateDecodes() throws {
        let model = TestModels.small
        let prompts = [TestModels.tokens(6, salt: 7), TestModels.tokens(2, salt: 8), TestModels.tokens(11, salt: 9)]
        let together = try prompts.map { _ in try KVCache(model: model, capacity: 32) }
        let apart = try prompts.map { _ in try KVCache(model: model, capacity: 32) }
        _ = try model.forward(zip(prompts, together).map { ForwardSequence(tokens: $0, cache: $1) })
        for (p, cache) in zip(prompts, apart) { _ = try model.forward([ForwardSequence(tokens: p, cache: cache)]) }
        for step in 0..<3 {
            let next = prompts.indices.map { (step * 31 + $0 * 7) % 256 }
            let batch = try model.forward(zip(next, together).map { ForwardSequence(tokens: [$0], cache: $1) })
            for s in prompts.indices {
                let single = try model.forward([ForwardSequence(tokens: [next[s]], cache: apart[s])])
                #expect(maxDifference(batch.logits[s], single.logits[0]) < 1e-5)
            }
        }
    }

    @Test func embeddingsInputEqualsTokenInput() throws {
        let model = TestModels.tiny
        let tokens = TestModels.tokens(7)
        let table = ReferenceLlamaForTests(TestModels.tinySpec).embeddings(tokens)
        let rows = table.flatMap { $0.map(Float.init) }
        let a = try model.forward([ForwardSequence(tokens: tokens, logits: .all)])
        let b = try model.forward([ForwardSequence(input: .embeddings(rows), logits: .all)])
        #expect(a.logits == b.logits)
    }

    @Test func hooksSeeEveryLayerAndCanRewriteTheStream() throws {
        let model = TestModels.small
        let spec = TestModels.smallSpec
        let inputs = [TestModels.tokens(4, salt: 1), TestModels.tokens(6, salt: 2)]
        var layers: [Int] = []
        var finalRows: [[Float]] = []
        // Negate the residual stream after layer 1 (a reflection, like the PoC's Householder step).
        let hooks = ForwardHooks(
            afterLayer: { layer, hidden in
                layers.append(layer)
                #expect(hidden.sequenceRows == [0..<4, 4..<10])
                #expect(hidden.startPositions == [0, 0])
                #expect(hidden.width == 64)
                if layer == 1 {
                    let all = UnsafeMutableBufferPointer(start: hidden.base, count: hidden.rowCount * hidden.width)
                    for i in all.indices { all[i] = -all[i] }
                }
            },
            beforeFinalNorm: { hidden in
                finalRows = (0..<2).map { s in Array(hidden.row(hidden.sequenceRows[s].upperBound - 1)) }
            })
        let out = try model.forward(inputs.map { ForwardSequence(tokens: $0, logits: .all, hidden: .last) }, hooks: hooks)
        #expect(layers == [0, 1, 2, 3])

        var reference = ReferenceLlamaForTests(spec)
        reference.unpermuteQK = true
        for s in 0..<2 {
            let expected = reference.logits(embeddings: reference.embeddings(inputs[s])) { layer, x in
                if layer == 1 { x = x.map { $0.map { -$0 } } }
            }
            #expect(maxDifference(out.logits[s], expected) < 2e-4)
            // The returned hidden state is the output RMSNorm of the pre-norm state the hook saw.
            let raw = finalRows[s]
            let ms = raw.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(raw.count)
            let normed = raw.map { Float(Double($0) / (ms + 1e-5).squareRoot()) }
            #expect(zip(normed, out.hidden[s].values).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    @Test func rowSelections() throws {
        let model = TestModels.tiny
        let tokens = TestModels.tokens(8)
        let all = try model.forward([ForwardSequence(tokens: tokens, logits: .all, hidden: .all)])
        let some = try model.forward([ForwardSequence(tokens: tokens, logits: .rows(2..<5), hidden: .none)])
        let last = try model.forward([ForwardSequence(tokens: tokens, logits: .last, hidden: .rows(7..<8))])
        let none = try model.forward([ForwardSequence(tokens: tokens, logits: .none)])
        #expect(some.logits[0].rows == 3 && some.hidden[0].rows == 0)
        // The logits GEMM has another row count, so OpenBLAS may round differently: compare closely.
        let middle = FloatMatrix(rows: 3, columns: 256, values: Array(all.logits[0].values[(2 * 256)..<(5 * 256)]))
        #expect(maxDifference(some.logits[0], middle) < 1e-5)
        #expect(maxDifference(last.logits[0], FloatMatrix(rows: 1, columns: 256, values: Array(all.logits[0][7]))) < 1e-5)
        #expect(last.hidden[0].values == Array(all.hidden[0][7]))
        #expect(none.logits[0].rows == 0)
    }

    @Test func invalidInputsAreTypedErrors() throws {
        let model = TestModels.tiny
        #expect(throws: ComputeError.unknownToken(id: 256, vocabularySize: 256)) {
            try model.forward([ForwardSequence(tokens: [1, 256])])
        }
        #expect(throws: ComputeError.unknownToken(id: -1, vocabularySize: 256)) {
            try model.forward([ForwardSequence(tokens: [-1])])
        }
        #expect(throws: ComputeError.emptySequence(index: 1)) {
            try model.forward([ForwardSequence(tokens: [1]), ForwardSequence(tokens: [])])
        }
        #expect(throws: ComputeError.embeddingShape(count: 65, hiddenSize: 64)) {
            try model.forward([ForwardSequence(input: .embeddings([Float](repeating: 0, count: 65)))])
        }
        #expect(throws: ComputeError.contextOverflow(needed: 513, capacity: 512)) {
            try model.forward([ForwardSequence(tokens: [Int](repeating: 1, count: 513))])
        }
        #expect(throws: ComputeError.rowSelectionOutOfRange(sequence: 0, requested: "0..<5", rows: 4)) {
            try model.forward([ForwardSequence(tokens: [1, 2, 3, 4], logits: .rows(0..<5))])
        }
        #expect(throws: ComputeError.self) { try model.forward([]) }

        let cache = try KVCache(model: model, capacity: 4)
        _ = try model.forward([ForwardSequence(tokens: [1, 2, 3], cache: cache)])
        #expect(throws: ComputeError.contextOverflow(needed: 5, capacity: 4)) {
            try model.forward([ForwardSequence(tokens: [4, 5], cache: cache)])
        }
        #expect(cache.count == 3, "a rejected call leaves the cache untouched")
        #expect(throws: ComputeError.self) {
            try model.forward([ForwardSequence(tokens: [4], cache: cache), ForwardSequence(tokens: [4], cache: cache)])
        }
        let foreign = try KVCache(model: TestModels.small, capacity: 4)
        #expect(throws: ComputeError.self) { try model.forward([ForwardSequence(tokens: [4], cache: foreign)]) }
        #expect(throws: ComputeError.contextOverflow(needed: 513, capacity: 512)) { try KVCache(model: model, capacity: 513) }

        cache.truncate(to: 1)
        #expect(cache.count == 1)
        _ = try model.forward([ForwardSequence(tokens: [2, 3, 4], cache: cache)])
        #expect(cache.count == 4)
    }

    @Test func forwardIsDeterministic() throws {
        let tokens = TestModels.tokens(40)
        let a = try TestModels.small.forward([ForwardSequence(tokens: tokens, logits: .all)])
        let b = try TestModels.small.forward([ForwardSequence(tokens: tokens, logits: .all)])
        #expect(a.logits == b.logits)
    }
}
