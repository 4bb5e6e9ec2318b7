public import ChorusCrypto

/// The hashes of the sparse Merkle sum tree (Specs/poc-commitments.md §2), BLAKE2b-256 throughout:
///
/// - leaf = `H(0x00 ‖ u64 nonce ‖ artifact)`;
/// - empty subtree of height 0 = `H(0x00)`; of height h+1 = `node(empty_h, empty_h, 0)`;
/// - node = `H(0x01 ‖ left ‖ right ‖ u64 count)`, `count` the number of leaves below it.
///
/// The count in every node is what lets a dense index `0 ..< count` name exactly one leaf.
public enum MerkleHashing {
    public static func leaf(nonce: UInt64, artifact: [UInt8]) -> Bytes32 {
        var bytes = [UInt8](repeating: 0, count: 9)
        withUnsafeBytes(of: nonce.littleEndian) { bytes.replaceSubrange(1..<9, with: $0) }
        bytes.append(contentsOf: artifact)
        return Blake2b.hash256(bytes)
    }

    public static func node(left: Bytes32, right: Bytes32, count: UInt64) -> Bytes32 {
        var bytes = [UInt8]()
        bytes.reserveCapacity(73)
        bytes.append(0x01)
        left.withUnsafeBytes { bytes.append(contentsOf: $0) }
        right.withUnsafeBytes { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: count.littleEndian) { bytes.append(contentsOf: $0) }
        return Blake2b.hash256(bytes)
    }

    /// `empty[h]` for h in 0...maxTreeDepth.
    public static let empty: [Bytes32] = {
        var hashes = [Blake2b.hash256([0x00])]
        for _ in 0..<Int(ModelParameters.maxTreeDepth) {
            let below = hashes[hashes.count - 1]
            hashes.append(node(left: below, right: below, count: 0))
        }
        return hashes
    }()
}
