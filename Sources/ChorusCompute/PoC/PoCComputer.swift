import ChorusCrypto
public import ChorusWorkerAPI

/// Computes PoC artifacts of one task on one resident model: random input embeddings per nonce,
/// a batched forward pass with the Householder reflection hooked in after every block, and the
/// projection of each sequence's final-normed last state (Specs/poc-kernel.md §4–5).
///
/// Artifacts depend only on the task and the nonce, never on batching or order: sequences are
/// independent and the layer vectors are shared. Thread safety: immutable after `init`
/// (`Sendable`); forward passes serialize themselves process-wide.
public final class PoCComputer: Sendable {
    public let model: LlamaModel
    public let task: PoCTask
    /// Layer l's unit Householder vector (fp32), `layerCount × hiddenSize`, computed once per task.
    let layerVectors: [[Float]]

    public init(model: LlamaModel, task: PoCTask) throws(PoCError) {
        let c = model.config
        guard c.hiddenSize >= PoCKernel.kDim, c.hiddenSize <= PoCKernel.maximumHiddenSize else {
            throw .unsupportedHiddenSize(c.hiddenSize)
        }
        guard task.sequenceLength <= c.contextLength else {
            throw .invalidSequenceLength(task.sequenceLength, maximum: min(c.contextLength, PoCKernel.maximumSequenceLength))
        }
        self.model = model
        self.task = task
        layerVectors = (0..<c.layerCount).map { PoCKernel.layerVector(task: task, layer: $0, hiddenSize: c.hiddenSize) }
    }

    /// The artifact vectors of `nonces` (one batched forward pass), nil where a nonce has no
    /// artifact (a non-finite or zero final state).
    public func compute(_ nonces: [UInt64]) throws(ComputeError) -> [PoCVector?] {
        guard !nonces.isEmpty else { return [] }
        let d = model.config.hiddenSize, t = task.sequenceLength
        let keys = nonces.map { task.nonceKey($0) }
        let perSequence = t * d
        let all = [Float](unsafeUninitializedCapacity: nonces.count * perSequence) { buffer, initialized in
            let base = UncheckedSendable(buffer.baseAddress!)
            // Each chunk writes only the rows of its own nonces.
            Parallel.forEachChunk(nonces.count) { range in
                for s in range {
                    let rng = CounterRNG(key: keys[s])
                    let dst = base.value + s * perSequence
                    for j in 0..<perSequence { dst[j] = rng.normal(UInt64(j)) }
                }
            }
            initialized = nonces.count * perSequence
        }
        let sequences = (0..<nonces.count).map { s in
            ForwardSequence(input: .embeddings(Array(all[(s * perSequence)..<((s + 1) * perSequence)])), logits: .none, hidden: .last)
        }
        let vectors = layerVectors
        let hooks = ForwardHooks(afterLayer: { layer, hidden in
            PoCComputer.reflect(hidden, across: vectors[layer])
        })
        let out = try model.forward(sequences, hooks: hooks)
        return (0..<nonces.count).map { s in
            out.hidden[s].values.withUnsafeBufferPointer { PoCKernel.project(hidden: $0, nonceKey: keys[s]) }
        }
    }

    /// x ← x − 2 (v·x) v for every row of the batch (dot product accumulated in fp32 lanes,
    /// reduced in fp64).
    static func reflect(_ hidden: HiddenStates, across v: [Float]) {
        let d = hidden.width
        v.withUnsafeBufferPointer { vp in
            let vBase = UncheckedSendable(vp.baseAddress!)
            Parallel.forEachChunk(hidden.rowCount, minimumChunk: 64) { range in
                let vb = vBase.value
                for r in range {
                    let x = hidden.row(r).baseAddress!
                    let s = -2 * Float(VectorMath.dot(x, vb, count: d))
                    VectorMath.addScaled(vb, scale: s, to: x, count: d)
                }
            }
        }
    }

    /// Recomputes `nonces` and compares with the claimed vectors (nil claim = not sent or not
    /// parseable): the validator's step before the binomial test.
    public func verify(_ nonces: [UInt64], claimed: [PoCVector?]? = nil) throws(ComputeError) -> PoCVerification {
        let vectors = try compute(nonces)
        var distances: [Double?]? = nil
        if let claimed {
            distances = zip(vectors, claimed).map { recomputed, claim in
                guard let recomputed, let claim else { return nil }
                return claim.distance(to: recomputed)
            }
        }
        return PoCVerification(nonces: nonces, vectors: vectors, distances: distances)
    }
}

/// Recomputed artifacts of a sample and, when claims were given, their distances to the claims
/// (nil when either side is missing or the claim is not finite: a mismatch).
public struct PoCVerification: Sendable, Hashable {
    public var nonces: [UInt64]
    public var vectors: [PoCVector?]
    public var distances: [Double?]?
}
