import ChorusCrypto
import ChorusMesh
import ChorusStore
import Foundation

/// The `peers` table: remembered dialable addresses, written as sessions come up and read at start.
///
/// Writes go through the node's `StorageWriter` (never blocking the loop); reads happen once, at
/// start, before the loop serves anything.
public struct PeerStore: Sendable {
    private let environment: StoreEnvironment
    private let writer: StorageWriter
    private let table: Table<Bytes32, [UInt8]>
    private let scores: Table<Bytes32, [UInt8]>

    public init(environment: StoreEnvironment, writer: StorageWriter) throws(StoreError) {
        self.environment = environment
        self.writer = writer
        self.table = try environment.table(NodeSchema.peers)
        self.scores = try environment.table(NodeSchema.peerScores)
    }

    /// The gossip scores saved by `saveScores`; unreadable entries are skipped.
    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public func loadScores() throws(StoreError) -> [Ed25519.PublicKey: PeerScore] {
        var out: [Ed25519.PublicKey: PeerScore] = [:]
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try scores.scan(in: txn) { (key: Bytes32, value: [UInt8]) -> ScanControl in
                if let score = try? JSONDecoder().decode(PeerScore.self, from: Data(value)) { out[Ed25519.PublicKey(key)] = score }
                return .continue
            }
        }
        return out
    }

    /// Replaces the saved gossip scores with `current` (one batch on the storage thread).
    public func saveScores(_ current: [Ed25519.PublicKey: PeerScore]) {
        var batch = WriteBatch()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (peer, score) in current {
            guard let json = try? encoder.encode(score) else { continue }
            batch.put(peer.raw, Array(json), into: scores)
        }
        writer.submit(batch) { _ in }
    }

    /// Every remembered peer, most recently connected first. Entries that fail to decode (written by
    /// a newer version, or damaged) are skipped and counted in `skipped`.
    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public func load() throws(StoreError) -> (peers: [KnownPeer], skipped: Int) {
        var peers: [KnownPeer] = []
        var skipped = 0
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try table.scan(in: txn) { (key: Bytes32, value: [UInt8]) -> ScanControl in
                if let peer = try? KnownPeer(identity: Ed25519.PublicKey(key), decodingValue: value) {
                    peers.append(peer)
                } else {
                    skipped += 1
                }
                return .continue
            }
        }
        return (peers.sorted { $0.lastConnected > $1.lastConnected }, skipped)
    }

    /// Remembers `peer` (replacing its previous address). `completion` runs on the storage thread.
    public func remember(_ peer: KnownPeer, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void = { _ in }) {
        var batch = WriteBatch()
        batch.put(peer.identity.raw, peer.encodedValue, into: table)
        writer.submit(batch, completion: completion)
    }
}
