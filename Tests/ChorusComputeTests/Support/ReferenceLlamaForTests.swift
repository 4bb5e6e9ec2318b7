import Foundation
@testable import ChorusCompute

/// A deliberately naive fp64 Llama forward, written the Hugging Face way, to check the engine:
/// it un-permutes the Q/K rows of the GGUF-layout weights back to HF order and applies
/// rotate-half ("NeoX") RoPE, so agreement with the engine (adjacent-pair RoPE on GGUF rows)
/// checks that the engine handles llama.cpp's weight permutation correctly.
struct ReferenceLlamaForTests {
    let c: LlamaConfig
    private var tensors: [String: [Double]] = [:]
    /// When false, Q/K rows are used as stored (wrong for GGUF): lets a test show the check bites.
    var unpermuteQK = true

    init(_ model: SyntheticModel) {
        c = model.config
        for (name, dims) in LlamaWeights.tensorShapes(c) {
            tensors[name] = model.tensorValues(name: name, dimensions: dims).map(Double.init)
        }
    }

    /// W·x for a GGUF matrix with `rows` output rows of `x.count` values each.
    private func apply(_ name: String, _ x: [Double], rows: Int, rowOrder: (Int) -> Int = { $0 }) -> [Double] {
        let n = x.count
        return tensors[name]!.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { x in
                (0..<rows).map { o in
                    let row = rowOrder(o) * n
                    var s = 0.0
                    for i in 0..<n { s += w[row + i] * x[i] }
                    return s
                }
            }
        }
    }

    /// HF row `o` of a Q/K matrix lives at GGUF row: within each head, HF index half·(hd/2) + i
    /// was stored at 2i + half by llama.cpp's converter.
    private func ggufRow(_ o: Int) -> Int {
        guard unpermuteQK else { return o }
        let hd = c.headDimension
        let head = o / hd, j = o % hd
        let half = j / (hd / 2), i = j % (hd / 2)
        return head * hd + 2 * i + half
    }

    private func rms(_ x: [Double], _ name: String) -> [Double] {
        let w = tensors[name]!
        let ms = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        let s = 1 / (ms + Double(c.rmsEpsilon)).squareRoot()
        return x.indices.map { x[$0] * s * w[$0] }
    }

    private func ropeNeoX(_ v: inout [Double], heads: Int, position: Int) {
        let hd = c.headDimension, half = hd / 2
        for h in 0..<heads {
            for i in 0..<half {
                let theta = pow(Double(c.ropeBase), -2 * Double(i) / Double(hd)) * Double(position)
                let a = v[h * hd + i], b = v[h * hd + i + half]
                v[h * hd + i] = a * cos(theta) - b * sin(theta)
                v[h * hd + i + half] = b * cos(theta) + a * sin(theta)
            }
        }
    }

    /// Logits for every position of `inputs` (rows of hidden-size embeddings).
    func logits(embeddings inputs: [[Double]], afterLayer: ((Int, inout [[Double]]) -> Void)? = nil) -> [[Double]] {
        let d = c.hiddenSize, hd = c.headDimension, group = c.headCount / c.kvHeadCount
        var x = inputs
        let n = x.count
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            var qs: [[Double]] = [], ks: [[Double]] = [], vs: [[Double]] = []
            for t in 0..<n {
                let xn = rms(x[t], p + "attn_norm.weight")
                var q = apply(p + "attn_q.weight", xn, rows: c.queryWidth, rowOrder: ggufRow)
                var k = apply(p + "attn_k.weight", xn, rows: c.kvWidth, rowOrder: ggufRow)
                ropeNeoX(&q, heads: c.headCount, position: t)
                ropeNeoX(&k, heads: c.kvHeadCount, position: t)
                qs.append(q); ks.append(k)
                vs.append(apply(p + "attn_v.weight", xn, rows: c.kvWidth))
            }
            for t in 0..<n {
                var out = [Double](repeating: 0, count: c.queryWidth)
                for h in 0..<c.headCount {
                    let g = h / group
                    var scores = (0...t).map { j in
                        var dot = 0.0
                        for e in 0..<hd { dot += qs[t][h * hd + e] * ks[j][g * hd + e] }
                        return dot / Double(hd).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let total = scores.reduce(0, +)
                    for j in 0...t {
                        for e in 0..<hd { out[h * hd + e] += scores[j] / total * vs[j][g * hd + e] }
                    }
                }
                let o = apply(p + "attn_output.weight", out, rows: d)
                for e in 0..<d { x[t][e] += o[e] }
                let xn = rms(x[t], p + "ffn_norm.weight")
                let gate = apply(p + "ffn_gate.weight", xn, rows: c.feedForwardSize)
                let up = apply(p + "ffn_up.weight", xn, rows: c.feedForwardSize)
                let hidden = gate.indices.map { gate[$0] / (1 + exp(-gate[$0])) * up[$0] }
                let down = apply(p + "ffn_down.weight", hidden, rows: d)
                for e in 0..<d { x[t][e] += down[e] }
            }
            afterLayer?(l, &x)
        }
        let outputName = c.tiedEmbeddings ? "token_embd.weight" : "output.weight"
        return x.map { apply(outputName, rms($0, "output_norm.weight"), rows: c.vocabularySize) }
    }

    func embeddings(_ tokens: [Int]) -> [[Double]] {
        let e = tensors["token_embd.weight"]!
        return tokens.map { t in (0..<c.hiddenSize).map { e[t * c.hiddenSize + $0] } }
    }

    func logits(tokens: [Int]) -> [[Double]] {
        logits(embeddings: embeddings(tokens))
    }
}
