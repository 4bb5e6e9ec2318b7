import ChorusCrypto

/// What two peers reconcile: the statements of one topic in one epoch.
public struct SyncScope: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: Topic
    public let epoch: UInt64

    public init(topic: Topic, epoch: UInt64) {
        self.topic = topic
        self.epoch = epoch
    }

    public static func < (a: SyncScope, b: SyncScope) -> Bool { (a.topic, a.epoch) < (b.topic, b.epoch) }
    public var description: String { "\(topic)@\(epoch)" }
}

/// A half-open range of ids `[lower, upper)` in byte order; `upper == nil` means "to the end".
public struct IDRange: Hashable, Sendable {
    public let lower: Bytes32
    public let upper: Bytes32?

    public static let all = IDRange(lower: .zero, upper: nil)

    public init(lower: Bytes32, upper: Bytes32?) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ id: Bytes32) -> Bool { id >= lower && (upper.map { id < $0 } ?? true) }
}

/// One step of range-based set reconciliation (after Meyer, "Range-Based Set Reconciliation").
public enum ReconcileItem: Sendable, Equatable {
    /// "In this range I hold `count` ids whose fingerprint is `fingerprint`."
    case fingerprint(SyncScope, IDRange, count: UInt32, fingerprint: Bytes32)
    /// "In this range I hold exactly these ids." `wantsReply` asks the receiver to answer with its
    /// own ids in the range when it holds some the sender lacks.
    case ids(SyncScope, IDRange, [Bytes32], wantsReply: Bool)
}

extension ReconcileItem {
    /// The scope the item is about.
    public var scope: SyncScope {
        switch self {
        case let .fingerprint(scope, _, _, _), let .ids(scope, _, _, _): scope
        }
    }
}

/// Range-based set reconciliation of statement ids: each side sends fingerprints of ranges; equal
/// ranges stop, different ones are split until they are small enough to list. Two peers end with
/// each knowing exactly which ids it lacks, in O(d · log n) round trips and traffic for d differences.
///
/// Fingerprints are BLAKE2b-256 over the sorted ids of the range (with the count): unlike XOR or
/// sum fingerprints, a peer cannot craft ids that make two different sets look equal.
///
/// Pure: the shell supplies the local sorted ids of each scope and fetches the missing statements.
public struct RangeReconciler: Sendable {
    /// Ranges with at most this many local ids are listed instead of split.
    public var listThreshold = 16
    /// Number of sub-ranges a differing range is split into.
    public var branching = 16

    public init() {}

    /// The opening message: one fingerprint per scope to reconcile. Scopes the initiator holds
    /// nothing of must be listed too (the shell lists every topic of the recent epochs), otherwise
    /// the peer never learns that they differ.
    public func start(scopes: [SyncScope], local: [SyncScope: [Bytes32]]) -> [ReconcileItem] {
        Set(scopes).sorted().map { scope in
            let ids = local[scope] ?? []
            return .fingerprint(scope, .all, count: UInt32(ids.count), fingerprint: Self.fingerprint(ids[...]))
        }
    }

    /// Answers a peer's items. `local` must hold every scope mentioned, with ids sorted ascending
    /// and unique (an absent scope is treated as empty). Returns the reply items and the ids the
    /// peer has that we lack (to fetch). Each item is answered by at most `branching` items, so a
    /// reply is bounded by the input (which one message bounds); the shell sends it in as many
    /// messages as it needs (`SyncMessage.reconcileMessages`).
    public func respond(to items: [ReconcileItem], local: [SyncScope: [Bytes32]]) -> (reply: [ReconcileItem], missing: [SyncScope: [Bytes32]]) {
        var reply: [ReconcileItem] = []
        var missing: [SyncScope: [Bytes32]] = [:]
        for item in items {
            switch item {
            case let .fingerprint(scope, range, count, fp):
                let mine = Self.slice(local[scope] ?? [], range)
                if mine.count == Int(count) && Self.fingerprint(mine) == fp { continue }
                if mine.count <= listThreshold {
                    reply.append(.ids(scope, range, Array(mine), wantsReply: true))
                } else {
                    reply += split(scope, range, mine)
                }
            case let .ids(scope, range, theirs, wantsReply):
                let mine = Self.slice(local[scope] ?? [], range)
                let mineSet = Set(mine)
                let theirSet = Set(theirs)
                let lacking = theirs.filter { range.contains($0) && !mineSet.contains($0) }
                if !lacking.isEmpty { missing[scope, default: []] += lacking }
                if wantsReply && mine.contains(where: { !theirSet.contains($0) }) {
                    // A short list is answered with ours; a long one is split like a differing
                    // fingerprint, so no item ever lists more than `listThreshold` ids (a scope of
                    // any size then reconciles without one oversized message).
                    if mine.count <= listThreshold {
                        reply.append(.ids(scope, range, Array(mine), wantsReply: false))
                    } else {
                        reply += split(scope, range, mine)
                    }
                }
            }
        }
        return (reply, missing)
    }

    /// Splits a differing range into up to `branching` sub-ranges with equal shares of our ids.
    /// Part k holds exactly our ids from the first id of part k (the range's lower bound for the
    /// first part) up to the first id of part k+1, so each part's ids are a sub-slice of `mine`.
    private func split(_ scope: SyncScope, _ range: IDRange, _ mine: ArraySlice<Bytes32>) -> [ReconcileItem] {
        let parts = min(branching, mine.count)
        var items: [ReconcileItem] = []
        var lower = range.lower
        var start = mine.startIndex
        for k in 0..<parts {
            let end = mine.startIndex + (mine.count * (k + 1)) / parts
            let upper: Bytes32? = k == parts - 1 ? range.upper : mine[end]
            let ids = mine[start..<end]
            items.append(.fingerprint(scope, IDRange(lower: lower, upper: upper), count: UInt32(ids.count), fingerprint: Self.fingerprint(ids)))
            if let upper { lower = upper }
            start = end
        }
        return items
    }

    /// The ids of sorted `ids` that fall in `range` (binary search).
    static func slice(_ ids: [Bytes32], _ range: IDRange) -> ArraySlice<Bytes32> {
        func lowerBound(_ key: Bytes32) -> Int {
            var lo = 0, hi = ids.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ids[mid] < key { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let start = lowerBound(range.lower)
        let end = range.upper.map(lowerBound) ?? ids.count
        return start < end ? ids[start..<end] : ids[start..<start]
    }

    /// BLAKE2b-256 of the count (u32 little-endian) followed by the ids in order.
    public static func fingerprint(_ ids: ArraySlice<Bytes32>) -> Bytes32 {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + 32 * ids.count)
        let n = UInt32(ids.count)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: n >> (8 * UInt32(i)))) }
        for id in ids { id.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        return Blake2b.hash256(bytes)
    }
}
