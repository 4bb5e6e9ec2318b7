public import ChorusCrypto
public import ChorusWorkerAPI

/// The integer-exact parts of the PoC kernel `chorus-poc/1` (Specs/poc-kernel.md): derived keys,
/// inputs, Householder vectors, picks, rotations and the projection of a final hidden state to
/// the 24-byte artifact. Only the forward pass between them is floating point.
public enum PoCKernel {
    public static let spec = "chorus-poc/1"
    /// Coordinates kept per artifact (fixed in this version).
    public static let kDim = PoCVector.dimensions
    public static let rotations = 12
    public static let vectorBytes = PoCVector.byteCount
    /// Unit vectors stay exact (Σ C² < 2^53) up to this length.
    public static let maximumHiddenSize = 58_000
    /// The protocol's `max_seq_len` (Specs/worker.md §9).
    public static let maximumSequenceLength = 4096

    static let tagNonce = Array("chorus/poc/1/nonce\0".utf8)
    static let tagLayer = Array("chorus/poc/1/layer\0".utf8)
    static let tagPick = Array("chorus/poc/1/pick\0".utf8)
    static let tagRotate = Array("chorus/poc/1/rotate\0".utf8)

    static func u32(_ x: Int) -> [UInt8] {
        let v = UInt32(truncatingIfNeeded: x)
        return (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }

    static func u64(_ v: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }

    /// H("chorus/poc/1/pick\0" ‖ nonceKey).
    public static func pickKey(nonceKey: Bytes32) -> Bytes32 {
        Blake2b.hash256(tagPick + nonceKey.bytes)
    }

    /// H("chorus/poc/1/rotate\0" ‖ nonceKey).
    public static func rotateKey(nonceKey: Bytes32) -> Bytes32 {
        Blake2b.hash256(tagRotate + nonceKey.bytes)
    }

    /// The `[T × d]` input embeddings of a nonce, row-major: `normal(nonceKey, t·d + i)`.
    public static func inputEmbeddings(nonceKey: Bytes32, sequenceLength: Int, hiddenSize: Int) -> [Float] {
        CounterRNG(key: nonceKey).normals(count: sequenceLength * hiddenSize)
    }

    /// Layer `l`'s Householder vector, `fp32(unit(layerKey(l), d, 0))`.
    public static func layerVector(task: PoCTask, layer: Int, hiddenSize: Int) -> [Float] {
        CounterRNG(key: task.layerKey(layer)).unitVector(count: hiddenSize).map { Float($0) }
    }

    /// `kDim` distinct coordinates of `[0, d)` by a partial Fisher–Yates shuffle keyed by `pickKey`.
    public static func pickIndices(pickKey: Bytes32, hiddenSize d: Int) -> [Int] {
        precondition(d >= kDim, "the hidden size must be at least k_dim")
        let rng = CounterRNG(key: pickKey)
        var a = Array(0..<d)
        var c: UInt64 = 0
        for i in 0..<kDim {
            let (r, next) = rng.uniform(below: UInt64(d - i), counter: c)
            c = next
            a.swapAt(i, i + Int(r))
        }
        return Array(a[0..<kDim])
    }

    /// The 12 rotation vectors (binary64): vector r uses values 12r ..< 12r+12 of `rotateKey`.
    public static func rotationVectors(rotateKey: Bytes32) -> [[Double]] {
        let rng = CounterRNG(key: rotateKey)
        return (0..<rotations).map { rng.unitVector(count: kDim, start: UInt64(kDim * $0)) }
    }

    /// §5: final hidden state `h` (fp32, d values) → the artifact vector, or nil when `h` is not
    /// finite or zero (the nonce has no artifact) or shorter than `kDim`. Steps 3–6 use separately rounded binary64
    /// operations in the written order, so the same `h` gives the same bytes everywhere.
    public static func project(hidden h: UnsafeBufferPointer<Float>, nonceKey: Bytes32) -> PoCVector? {
        guard h.count >= kDim else { return nil }
        var sum = 0.0
        for x in h {
            guard x.isFinite else { return nil }
            sum += Double(x) * Double(x)
        }
        let norm = sum.squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        let picked = pickIndices(pickKey: pickKey(nonceKey: nonceKey), hiddenSize: h.count)
        var z = picked.map { Double(h[$0]) / norm }
        for u in rotationVectors(rotateKey: rotateKey(nonceKey: nonceKey)) {
            var s = 0.0
            for i in 0..<kDim { s += u[i] * z[i] }
            for i in 0..<kDim { z[i] -= 2 * s * u[i] }
        }
        var q = 0.0
        for i in 0..<kDim { q += z[i] * z[i] }
        let r = q.squareRoot()
        guard r > 0, r.isFinite else { return nil }
        return PoCVector(encoding: z.map { $0 / r })
    }

    public static func project(hidden: [Float], nonceKey: Bytes32) -> PoCVector? {
        hidden.withUnsafeBufferPointer { project(hidden: $0, nonceKey: nonceKey) }
    }
}
