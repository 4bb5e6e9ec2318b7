import Foundation
import Testing
import ChorusCrypto
@testable import ChorusCompute

/// Checks the Swift generator against Specs/vectors/counter-rng.json, written by the independent
/// pure-Python reference Tools/vectors/counter_rng.py.
@Suite struct CounterRNGTests {
    struct Vectors: Decodable {
        struct Mix: Decodable { let input: String; let output: String }
        struct Stream: Decodable {
            let key: String
            let words: [String]
            let lane_sums: [Int]
            let normals: [Float]
        }
        struct Tensor: Decodable {
            let seed: String
            let name: String
            let inner_dimension: Int
            let key: String
            let scale_exponent: Int
            let values: [Float]
        }
        let mix64: [Mix]
        let streams: [Stream]
        let synthetic_tensors: [Tensor]
    }

    static func load() throws -> Vectors {
        try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: TestPaths.vector("counter-rng.json")))
    }

    static func hex64(_ s: String) -> UInt64 { UInt64(s, radix: 16) ?? 0 }

    @Test func mix64MatchesReference() throws {
        let v = try Self.load()
        #expect(v.mix64.count == 4)
        for m in v.mix64 {
            #expect(CounterRNG.mix64(Self.hex64(m.input)) == Self.hex64(m.output))
        }
    }

    @Test func streamsMatchReference() throws {
        let v = try Self.load()
        #expect(v.streams.map(\.key) == [String(repeating: "0", count: 64),
                                         (0..<32).map { String(format: "%02x", $0) }.joined()])
        for s in v.streams {
            let rng = CounterRNG(key: try Bytes32(hex: s.key))
            #expect((0..<3).map { rng.word(UInt64($0)) } == s.words.map(Self.hex64))
            #expect((0..<8).map { rng.laneSum(UInt64($0)) } == s.lane_sums)
            #expect((0..<8).map { rng.normal(UInt64($0)) } == s.normals)
            #expect(rng.normals(count: 8) == s.normals)
        }
    }

    @Test func syntheticTensorKeysAndValuesMatchReference() throws {
        let v = try Self.load()
        #expect(!v.synthetic_tensors.isEmpty)
        for t in v.synthetic_tensors {
            let seed = try Bytes32(hex: t.seed)
            #expect(SyntheticModel.tensorKey(seed: seed, name: t.name).hex == t.key)
            #expect(SyntheticModel.scaleExponent(innerDimension: t.inner_dimension) == t.scale_exponent)
            let model = SyntheticModel(config: .syntheticSmall, seed: seed)
            let values = model.tensorValues(name: t.name, dimensions: [t.inner_dimension, 4])
            #expect(Array(values.prefix(8)) == t.values)
        }
    }

    @Test func bulkFillEqualsPointwiseAtAnyOffset() {
        let rng = CounterRNG(key: Blake2b.hash256(Array("bulk".utf8)))
        let bulk = rng.normals(count: 200_000, startIndex: 1_000, scaleExponent: 3)
        for i in [0, 1, 65_535, 65_536, 131_072, 199_999] {
            #expect(bulk[i] == rng.normal(UInt64(1_000 + i)) / 8)
        }
    }

    @Test func normalsLookStandard() {
        let rng = CounterRNG(key: Blake2b.hash256(Array("moments".utf8)))
        let xs = rng.normals(count: 100_000)
        let mean = xs.reduce(0.0) { $0 + Double($1) } / Double(xs.count)
        let variance = xs.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(xs.count) - mean * mean
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.02)
        #expect(xs.allSatisfy { abs($0) <= 6 })
    }
}
