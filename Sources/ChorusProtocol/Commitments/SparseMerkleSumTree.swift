public import ChorusCrypto

/// A participant's PoC artifacts for one (epoch, model): a sparse Merkle sum tree keyed by nonce
/// (Specs/poc-commitments.md). The nonce's bits are the leaf's path (most significant of `depth`
/// bits at the root), so leaves in order are nonces in ascending order, a nonce can be in the tree
/// only once, and the dense index `i` (0 ..< count) names the leaf with the i-th smallest nonce.
///
/// Inserting costs `depth` hashes; the tree keeps every non-empty node, so root, count and any
/// proof are available at once. Persisting the leaves (and rebuilding on restart) is the shell's
/// business.
public struct SparseMerkleSumTree: Sendable {
    public enum InsertError: Error, Equatable, Sendable, CustomStringConvertible {
        case duplicateNonce(UInt64)
        case nonceOutOfRange(nonce: UInt64, depth: UInt8)
        case artifactTooLong(length: Int, limit: Int)

        public var description: String {
            switch self {
            case let .duplicateNonce(n): return "nonce \(n) is already in the tree (each nonce counts once)"
            case let .nonceOutOfRange(n, d): return "nonce \(n) does not fit a tree of depth \(d) (nonces must be below 2^\(d))"
            case let .artifactTooLong(length, limit): return "artifact of \(length) bytes exceeds the \(limit)-byte limit"
            }
        }
    }

    public static let maxArtifactLength = 1024

    private struct NodeKey: Hashable {
        let height: UInt8
        let prefix: UInt64
    }

    private struct Node {
        let hash: Bytes32
        let count: UInt64
    }

    public let depth: UInt8
    private var nodes: [NodeKey: Node] = [:]
    private var artifacts: [UInt64: [UInt8]] = [:]

    public init(depth: UInt8) {
        precondition(depth >= 1 && depth <= ModelParameters.maxTreeDepth, "tree depth \(depth) is outside 1...\(ModelParameters.maxTreeDepth)")
        self.depth = depth
    }

    public var count: UInt64 { node(height: depth, prefix: 0).count }
    public var root: Bytes32 { node(height: depth, prefix: 0).hash }

    public func artifact(nonce: UInt64) -> [UInt8]? { artifacts[nonce] }

    public mutating func insert(nonce: UInt64, artifact: [UInt8]) throws(InsertError) {
        guard nonce >> UInt64(depth) == 0 else { throw .nonceOutOfRange(nonce: nonce, depth: depth) }
        guard artifacts[nonce] == nil else { throw .duplicateNonce(nonce) }
        guard artifact.count <= Self.maxArtifactLength else { throw .artifactTooLong(length: artifact.count, limit: Self.maxArtifactLength) }
        artifacts[nonce] = artifact
        var current = Node(hash: MerkleHashing.leaf(nonce: nonce, artifact: artifact), count: 1)
        nodes[NodeKey(height: 0, prefix: nonce)] = current
        for height in 1...depth {
            let prefix = nonce >> UInt64(height)
            let left = node(height: height - 1, prefix: prefix << 1)
            let right = node(height: height - 1, prefix: prefix << 1 | 1)
            let count = left.count + right.count
            current = Node(hash: MerkleHashing.node(left: left.hash, right: right.hash, count: count), count: count)
            nodes[NodeKey(height: height, prefix: prefix)] = current
        }
    }

    /// The proof of the leaf at dense index `index`, or nil when `index >= count`.
    public func proof(index: UInt64) -> MerkleProof? {
        guard index < count else { return nil }
        var remaining = index
        var prefix: UInt64 = 0
        var siblings: [MerkleProof.Sibling] = []
        siblings.reserveCapacity(Int(depth))
        for height in stride(from: depth, to: 0, by: -1) {
            let left = node(height: height - 1, prefix: prefix << 1)
            let right = node(height: height - 1, prefix: prefix << 1 | 1)
            if remaining < left.count {
                siblings.append(MerkleProof.Sibling(hash: right.hash, count: right.count))
                prefix = prefix << 1
            } else {
                remaining -= left.count
                siblings.append(MerkleProof.Sibling(hash: left.hash, count: left.count))
                prefix = prefix << 1 | 1
            }
        }
        // Invariant: descending by counts from a root with `count > index` ends on a real leaf.
        guard let artifact = artifacts[prefix] else { return nil }
        return MerkleProof(index: index, nonce: prefix, artifact: artifact, siblings: siblings.reversed())
    }

    private func node(height: UInt8, prefix: UInt64) -> Node {
        nodes[NodeKey(height: height, prefix: prefix)] ?? Node(hash: MerkleHashing.empty[Int(height)], count: 0)
    }
}
