public import ChorusCrypto
public import ChorusWire

/// The proof that the leaf at dense index `index` of a committed tree is `(nonce, artifact)`:
/// the siblings from the leaf's level up to the root, each with its hash and leaf count.
public struct MerkleProof: Sendable, Hashable, WireCodable {
    public struct Sibling: Sendable, Hashable {
        public let hash: Bytes32
        public let count: UInt64

        public init(hash: Bytes32, count: UInt64) {
            self.hash = hash
            self.count = count
        }
    }

    public static let version: UInt8 = 1

    public let index: UInt64
    public let nonce: UInt64
    public let artifact: [UInt8]
    /// `siblings[0]` is the leaf's sibling; `siblings[depth − 1]` is a child of the root.
    public let siblings: [Sibling]

    public init(index: UInt64, nonce: UInt64, artifact: [UInt8], siblings: [Sibling]) {
        self.index = index
        self.nonce = nonce
        self.artifact = artifact
        self.siblings = siblings
    }

    /// Checks the proof against a commit's `(root, count, depth)`: the path rebuilt from the nonce's
    /// bits must give the root, the counts must add up to `count`, and the leaves to the left must
    /// number exactly `index`. `artifactLength`, when given, is the only length accepted.
    public func verify(root: Bytes32, count: UInt64, depth: UInt8, artifactLength: Int? = nil) throws(ProtocolError) {
        guard siblings.count == Int(depth) else {
            throw .invalidProof(reason: "\(siblings.count) siblings for a tree of depth \(depth)")
        }
        guard nonce >> UInt64(depth) == 0 else {
            throw .invalidProof(reason: "nonce \(nonce) does not fit a tree of depth \(depth)")
        }
        if let artifactLength, artifact.count != artifactLength {
            throw .invalidProof(reason: "artifact is \(artifact.count) bytes, expected \(artifactLength)")
        }
        var hash = MerkleHashing.leaf(nonce: nonce, artifact: artifact)
        var below: UInt64 = 1
        var left: UInt64 = 0
        for (level, sibling) in siblings.enumerated() {
            let total = below.addingReportingOverflow(sibling.count)
            guard !total.overflow else { throw .invalidProof(reason: "sibling counts overflow at level \(level)") }
            if (nonce >> UInt64(level)) & 1 == 1 {
                hash = MerkleHashing.node(left: sibling.hash, right: hash, count: total.partialValue)
                left += sibling.count
            } else {
                hash = MerkleHashing.node(left: hash, right: sibling.hash, count: total.partialValue)
            }
            below = total.partialValue
        }
        guard hash == root else { throw .invalidProof(reason: "path of nonce \(nonce) leads to \(hash.hex), not the committed root \(root.hex)") }
        guard below == count else { throw .invalidProof(reason: "proof implies \(below) leaves, the commit says \(count)") }
        guard left == index else { throw .invalidProof(reason: "leaf has \(left) leaves before it, so it is index \(left), not \(index)") }
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeU64(index)
        writer.writeU64(nonce)
        writer.writeBytes(artifact)
        writer.writeArray(siblings) { w, s in
            w.writeBytes32(s.hash)
            w.writeU64(s.count)
        }
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "merkle-proof.version")
        guard version == Self.version else { throw .unknownVersion(what: "merkle-proof", version: Int(version), highestKnown: Int(Self.version)) }
        index = try reader.readU64(field: "merkle-proof.index")
        nonce = try reader.readU64(field: "merkle-proof.nonce")
        artifact = Array(try reader.readBytes(field: "merkle-proof.artifact", maxLength: SparseMerkleSumTree.maxArtifactLength))
        siblings = try reader.readArray(field: "merkle-proof.siblings", maxCount: Int(ModelParameters.maxTreeDepth), minElementSize: 40) {
            (r: inout WireReader) throws(WireError) in
            Sibling(hash: try r.readBytes32(field: "merkle-proof.sibling.hash"), count: try r.readU64(field: "merkle-proof.sibling.count"))
        }
    }
}
