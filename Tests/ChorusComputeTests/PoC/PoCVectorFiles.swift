import ChorusCrypto
import ChorusWorkerAPI
import Foundation
@testable import ChorusCompute

/// Decodables for the PoC golden vectors (Specs/vectors/*.json, written by Tools/pyworker/make_vectors.py).
enum PoCVectorFiles {
    struct CounterRNGFile: Decodable {
        struct Stream: Decodable {
            let key: String
            let words: [String]
            let centered_sums: [Int]
            let normals: [Float]
            let normals_from_1000: [Float]
        }
        struct Unit: Decodable { let key: String; let count: Int; let start: UInt64; let f64_hex: [String]; let f32_hex: [String] }
        struct Uniform: Decodable { let key: String; let m: String; let values: [String]; let next_counter: UInt64 }
        let streams: [Stream]
        let unit_vectors: [Unit]
        let uniform_below: [Uniform]
    }

    struct Layer: Decodable { let layer: Int; let key: String; let v_first4_f32_hex: [String] }
    struct Nonce: Decodable {
        let nonce: UInt64
        let nonce_key: String
        let inputs_first8: [Float]
        let inputs_last_row_first4: [Float]
        let pick_key: String
        let picked_indices: [Int]
        let rotate_key: String
        let final_hidden_first4: [Float]
        let vector: String
    }
    struct Probe: Decodable { let nonce_key: String; let vector: String }
    struct Case: Decodable {
        let name: String?
        let config: SyntheticConfig?
        let synthetic_seed: String?
        let model_digest: String?
        let model_id: String
        let seq_len: Int
        let epoch_seed: String
        let participant: String
        let dist_threshold: Double
        let layers: [Layer]
        let nonces: [Nonce]
        let projection_probe: Probe
    }
    struct SyntheticConfig: Decodable {
        let hidden_size, layer_count, head_count, kv_head_count, feed_forward_size, vocab_size, context_length, head_dim, rope_dimensions: Int
        let rope_base: Float
        let rms_epsilon: Float
        let tied_embeddings: Bool
        var llama: LlamaConfig {
            LlamaConfig(hiddenSize: hidden_size, layerCount: layer_count, headCount: head_count, kvHeadCount: kv_head_count,
                        headDimension: head_dim, feedForwardSize: feed_forward_size, vocabularySize: vocab_size,
                        contextLength: context_length, ropeBase: rope_base, ropeDimensions: rope_dimensions,
                        rmsEpsilon: rms_epsilon, tiedEmbeddings: tied_embeddings)
        }
    }
    struct KernelFile: Decodable {
        let spec: String
        let model_digest: String?
        let cases: [Case]
    }
    struct StatFile: Decodable {
        struct PValue: Decodable { let mismatches: Int; let n: Int; let p_mismatch: Double; let p_value: Double }
        struct Threshold: Decodable { let n: Int; let p_mismatch: Double; let p_value_threshold: Double; let min_mismatches_for_fraud: Int }
        let p_values: [PValue]
        let fraud_thresholds: [Threshold]
    }

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: TestPaths.vector(name)))
    }

    /// Little-endian bytes in hex → the value's bit pattern.
    static func littleEndianBits(_ hex: String) throws -> UInt64 {
        try Hex.decode(hex).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func task(_ c: Case) throws -> PoCTask {
        try PoCTask(seed: Bytes32(hex: c.epoch_seed), participant: Bytes32(hex: c.participant),
                    modelID: c.model_id, sequenceLength: c.seq_len)
    }

    /// Checks every exact field of a case and every vector within a tenth of its threshold.
    /// Returns the largest vector distance seen.
    static func checkCase(_ c: Case, model: LlamaModel, record: (Bool, String) -> Void) throws -> Double {
        let task = try task(c)
        let d = model.config.hiddenSize
        for layer in c.layers {
            record(task.layerKey(layer.layer).hex == layer.key, "layer key \(layer.layer)")
            let v = PoCKernel.layerVector(task: task, layer: layer.layer, hiddenSize: d)
            let bits = try layer.v_first4_f32_hex.map { UInt32(try littleEndianBits($0)) }
            record(Array(v.prefix(4)).map(\.bitPattern) == bits, "layer vector \(layer.layer)")
        }
        let computer = try PoCComputer(model: model, task: task)
        let vectors = try computer.compute(c.nonces.map(\.nonce))
        var worst = 0.0
        for (n, got) in zip(c.nonces, vectors) {
            let key = task.nonceKey(n.nonce)
            record(key.hex == n.nonce_key, "nonce key \(n.nonce)")
            let inputs = PoCKernel.inputEmbeddings(nonceKey: key, sequenceLength: c.seq_len, hiddenSize: d)
            record(Array(inputs.prefix(8)) == n.inputs_first8, "inputs \(n.nonce)")
            let lastRow = (c.seq_len - 1) * d
            record(Array(inputs[lastRow..<(lastRow + 4)]) == n.inputs_last_row_first4, "last input row \(n.nonce)")
            let pick = PoCKernel.pickKey(nonceKey: key)
            record(pick.hex == n.pick_key, "pick key \(n.nonce)")
            record(PoCKernel.pickIndices(pickKey: pick, hiddenSize: d) == n.picked_indices, "picked indices \(n.nonce)")
            record(PoCKernel.rotateKey(nonceKey: key).hex == n.rotate_key, "rotate key \(n.nonce)")
            guard let got, let expected = PoCVector(hex: n.vector), let distance = got.distance(to: expected) else {
                record(false, "nonce \(n.nonce) has a finite artifact")
                continue
            }
            worst = max(worst, distance)
            record(distance <= c.dist_threshold / 10, "nonce \(n.nonce) distance \(distance)")
        }
        let probeKey = try Bytes32(hex: c.projection_probe.nonce_key)
        let probeHidden = CounterRNG(key: Bytes32([UInt8](repeating: 0x5A, count: 32))!).normals(count: d)
        record(PoCKernel.project(hidden: probeHidden, nonceKey: probeKey)?.hex == c.projection_probe.vector, "projection probe")
        return worst
    }
}
