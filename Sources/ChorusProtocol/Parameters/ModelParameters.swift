public import ChorusWire

/// One governance-approved model: what a node must load to run PoC and serve it, how its
/// artifacts are checked, and how its PoC counts turn into consensus weight.
public struct ModelParameters: Sendable, Hashable, WireEncodable {
    /// `chorus-poc/1` fixes the projection at 12 coordinates (Specs/poc-kernel.md §9).
    public static let requiredKDim: UInt32 = 12
    public static let maxIDLength = 255
    /// Deepest nonce tree a commit may claim: 2^40 nonces is far beyond any epoch's work.
    public static let maxTreeDepth: UInt8 = 40
    public static let maxSampleSize: UInt32 = 10_000

    /// The network's name of the model (1 to 255 bytes of UTF-8), as in PoC keys.
    public var id: String
    /// `sha256:<hex>` of the GGUF file or `blake2b:<hex>` of a synthetic model's definition.
    public var digest: String
    /// PoC sequence length T.
    public var seqLen: UInt32
    public var kDim: UInt32
    /// Largest L2 distance between two honest computations of an artifact.
    public var distThreshold: Ratio
    /// Tolerated rate of honest mismatches (the binomial test's null hypothesis).
    public var pMismatch: Ratio
    /// Significance level of the fraud test.
    public var pValueThreshold: Ratio
    /// Leaf indices a validator samples per participant (fewer when the commit is smaller).
    public var sampleSize: UInt32
    /// The unified multiplier: consensus weight per unit of this model's `pocWeight`.
    public var weightScaleFactor: Ratio
    /// First epoch in which refusal and no-participation penalties apply for this model.
    public var penaltyStartEpoch: UInt64
    /// Depth of the sparse Merkle sum tree of this model's artifacts (nonces below 2^depth).
    public var treeDepth: UInt8

    public init(
        id: String, digest: String, seqLen: UInt32, kDim: UInt32 = ModelParameters.requiredKDim,
        distThreshold: Ratio, pMismatch: Ratio, pValueThreshold: Ratio, sampleSize: UInt32,
        weightScaleFactor: Ratio, penaltyStartEpoch: UInt64, treeDepth: UInt8 = 24
    ) {
        self.id = id
        self.digest = digest
        self.seqLen = seqLen
        self.kDim = kDim
        self.distThreshold = distThreshold
        self.pMismatch = pMismatch
        self.pValueThreshold = pValueThreshold
        self.sampleSize = sampleSize
        self.weightScaleFactor = weightScaleFactor
        self.penaltyStartEpoch = penaltyStartEpoch
        self.treeDepth = treeDepth
    }

    /// Checks every range rule; `path` prefixes the keys named in errors (e.g. `models[1]`).
    public func validate(path: String) throws(ProtocolError) {
        let idBytes = id.utf8.count
        guard (1...Self.maxIDLength).contains(idBytes) else {
            throw .invalidParameter(key: "\(path).id", expected: "1 to \(Self.maxIDLength) bytes", found: "\(idBytes) bytes")
        }
        guard Self.isValidDigest(digest) else {
            throw .invalidParameter(
                key: "\(path).digest", expected: "\"sha256:\" or \"blake2b:\" followed by 64 lower-case hex digits", found: "\"\(digest)\"")
        }
        guard seqLen >= 1 else { throw .invalidParameter(key: "\(path).seq_len", expected: "at least 1", found: "0") }
        guard kDim == Self.requiredKDim else {
            throw .invalidParameter(key: "\(path).k_dim", expected: "\(Self.requiredKDim) (fixed by chorus-poc/1)", found: "\(kDim)")
        }
        guard !distThreshold.isZero else {
            throw .invalidParameter(key: "\(path).dist_threshold", expected: "a positive distance", found: "0")
        }
        guard !pMismatch.isZero, pMismatch.isBelowOne else {
            throw .invalidParameter(key: "\(path).p_mismatch", expected: "a probability strictly between 0 and 1", found: "\(pMismatch)")
        }
        guard !pValueThreshold.isZero, pValueThreshold.isBelowOne else {
            throw .invalidParameter(key: "\(path).p_value_threshold", expected: "a probability strictly between 0 and 1", found: "\(pValueThreshold)")
        }
        guard (1...Self.maxSampleSize).contains(sampleSize) else {
            throw .invalidParameter(key: "\(path).sample_size", expected: "1 to \(Self.maxSampleSize)", found: "\(sampleSize)")
        }
        guard !weightScaleFactor.isZero else {
            throw .invalidParameter(key: "\(path).weight_scale_factor", expected: "a positive factor", found: "0")
        }
        guard (1...Self.maxTreeDepth).contains(treeDepth) else {
            throw .invalidParameter(key: "\(path).tree_depth", expected: "1 to \(Self.maxTreeDepth)", found: "\(treeDepth)")
        }
    }

    static func isValidDigest(_ digest: String) -> Bool {
        let parts = digest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "sha256" || parts[0] == "blake2b" else { return false }
        let hex = parts[1].utf8
        return hex.count == 64 && hex.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeString(id)
        writer.writeString(digest)
        writer.writeU32(seqLen)
        writer.writeU32(kDim)
        writer.write(distThreshold)
        writer.write(pMismatch)
        writer.write(pValueThreshold)
        writer.writeU32(sampleSize)
        writer.write(weightScaleFactor)
        writer.writeU64(penaltyStartEpoch)
        writer.writeU8(treeDepth)
    }
}
