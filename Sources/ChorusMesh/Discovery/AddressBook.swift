import ChorusCrypto

/// Where the node may dial, kept so an attacker cannot fill it (Bitcoin Core's addrman, Specs/targets.md T3).
///
/// Addresses heard about go to the *new* table, in a bucket chosen by a keyed hash of the address's
/// /16 group and of the group of the peer that told us, so one source (or one subnet) can only
/// reach a few buckets. Addresses we connected to move to the *tried* table, bucketed by their own
/// group. A collision in *tried* does not evict at once: the old entry is tested first
/// (test-before-evict) and only replaced if it fails. Selection picks tried or new with equal
/// probability, then a random non-empty slot, so an attacker holding many addresses from few
/// groups wins only a small share of outbound slots.
///
/// The bucket key is secret and per node, so attackers cannot aim at buckets. Pure: time and
/// randomness are inputs; `entries` / `init(restoring:)` persist it.
public struct AddressBook: Sendable {
    public struct Settings: Sendable, Equatable {
        public var newBuckets = 256
        public var triedBuckets = 64
        public var bucketSize = 64
        /// Buckets one source group can place a given address group into.
        public var newBucketsPerSourceGroup = 8
        /// Buckets one address group can occupy in the tried table.
        public var triedBucketsPerGroup = 4
        /// Entries not heard of for this long, or failing this many times in a row, are "terrible"
        /// and evicted first.
        public var horizon: Duration = .seconds(30 * 24 * 3600)
        public var maxFailures = 10
        public init() {}
    }

    public struct Entry: Sendable, Equatable {
        public let address: NetAddress
        public var identity: Ed25519.PublicKey?
        public var source: NetAddress.Host
        public var lastHeard: MonotonicTime
        public var lastSuccess: MonotonicTime?
        public var lastAttempt: MonotonicTime?
        public var failures: Int
        public var tried: Bool

        public init(address: NetAddress, identity: Ed25519.PublicKey?, source: NetAddress.Host, lastHeard: MonotonicTime,
                    lastSuccess: MonotonicTime? = nil, lastAttempt: MonotonicTime? = nil, failures: Int = 0, tried: Bool = false) {
            self.address = address
            self.identity = identity
            self.source = source
            self.lastHeard = lastHeard
            self.lastSuccess = lastSuccess
            self.lastAttempt = lastAttempt
            self.failures = failures
            self.tried = tried
        }
    }

    public let settings: Settings
    private let key: Bytes32
    private var entries_: [NetAddress: Entry] = [:]
    private var newTable: [[NetAddress?]]
    private var triedTable: [[NetAddress?]]
    /// Tried-table collisions waiting for the old entry's test: new address → incumbent.
    public private(set) var pendingEvictions: [NetAddress: NetAddress] = [:]

    public init(key: Bytes32, settings: Settings = .init()) {
        self.key = key
        self.settings = settings
        newTable = Array(repeating: Array(repeating: nil, count: settings.bucketSize), count: settings.newBuckets)
        triedTable = Array(repeating: Array(repeating: nil, count: settings.bucketSize), count: settings.triedBuckets)
    }

    /// Rebuilds a book from persisted entries (tried ones first, so they keep their places).
    public init(key: Bytes32, settings: Settings = .init(), restoring saved: [Entry]) {
        self.init(key: key, settings: settings)
        for e in saved.sorted(by: { ($0.tried ? 0 : 1, $0.address) < ($1.tried ? 0 : 1, $1.address) }) {
            if e.tried {
                let (b, s) = triedSlot(e.address)
                if triedTable[b][s] == nil {
                    triedTable[b][s] = e.address
                    entries_[e.address] = e
                    continue
                }
            }
            var demoted = e
            demoted.tried = false
            let (b, s) = newSlot(e.address, source: e.source)
            if newTable[b][s] == nil {
                newTable[b][s] = e.address
                entries_[e.address] = demoted
            }
        }
    }

    public var count: Int { entries_.count }
    public var entries: [Entry] { entries_.values.sorted { $0.address < $1.address } }
    public func entry(_ address: NetAddress) -> Entry? { entries_[address] }

    // MARK: - Learning addresses

    /// Records an address heard from `source` (a peer record, peer exchange, a seed). Returns true
    /// when it was stored; false when its slot holds a better entry.
    @discardableResult
    public mutating func add(_ address: NetAddress, identity: Ed25519.PublicKey?, source: NetAddress.Host, now: MonotonicTime) -> Bool {
        if var e = entries_[address] {
            e.lastHeard = max(e.lastHeard, now)
            if let identity { e.identity = identity }
            entries_[address] = e
            return true
        }
        let (b, s) = newSlot(address, source: source)
        if let occupant = newTable[b][s] {
            guard let o = entries_[occupant], isTerrible(o, now: now) else { return false }
            entries_[occupant] = nil
        }
        newTable[b][s] = address
        entries_[address] = Entry(address: address, identity: identity, source: source, lastHeard: now)
        return true
    }

    /// A connection attempt is starting.
    public mutating func attempt(_ address: NetAddress, now: MonotonicTime) {
        entries_[address]?.lastAttempt = now
    }

    /// The attempt failed.
    public mutating func failed(_ address: NetAddress, now: MonotonicTime) {
        entries_[address]?.failures += 1
        // A tested incumbent that fails loses its tried slot to the waiting newcomer.
        if let newcomer = pendingEvictions.first(where: { $0.value == address })?.key {
            pendingEvictions[newcomer] = nil
            evictFromTried(address)
            _ = promote(newcomer, now: now)
        }
    }

    /// A session came up with the peer at `address`: move it to the tried table. If its tried slot
    /// is held by another entry, that entry must be tested first; the newcomer waits in
    /// `pendingEvictions` and `address`'s incumbent is returned so the shell can dial it (a feeler).
    @discardableResult
    public mutating func good(_ address: NetAddress, identity: Ed25519.PublicKey?, now: MonotonicTime) -> NetAddress? {
        guard var e = entries_[address] else { return nil }
        e.lastSuccess = now
        e.failures = 0
        if let identity { e.identity = identity }
        entries_[address] = e
        if let incumbent = pendingEvictions.first(where: { $0.value == address })?.key {
            pendingEvictions[incumbent] = nil  // the incumbent answered: the newcomer stays new
        }
        return promote(address, now: now)
    }

    private mutating func promote(_ address: NetAddress, now: MonotonicTime) -> NetAddress? {
        guard let e = entries_[address], !e.tried else { return nil }
        let (b, s) = triedSlot(address)
        if let incumbent = triedTable[b][s], incumbent != address {
            if let i = entries_[incumbent], isTerrible(i, now: now) {
                evictFromTried(incumbent)
            } else {
                pendingEvictions[address] = incumbent
                return incumbent
            }
        }
        removeFromNew(address)
        triedTable[b][s] = address
        entries_[address]?.tried = true
        return nil
    }

    // MARK: - Choosing whom to dial

    /// Picks an address to dial: tried or new with equal odds, a random occupied slot, accepted with
    /// a probability that falls with recent failures. `exclude` holds addresses already in use.
    public func select(using rng: inout some RandomNumberGenerator, now: MonotonicTime, exclude: Set<NetAddress> = []) -> NetAddress? {
        let triedCount = entries_.values.filter(\.tried).count
        let newCount = entries_.count - triedCount
        guard entries_.count > exclude.count else { return nil }
        let sparseTried = triedCount * 64 < triedTable.count * settings.bucketSize
        let sparseNew = newCount * 64 < newTable.count * settings.bucketSize
        let triedPool = sparseTried ? entries_.values.filter(\.tried).map(\.address).sorted() : []
        let newPool = sparseNew ? entries_.values.filter { !$0.tried }.map(\.address).sorted() : []
        for _ in 0..<2000 {
            let useTried = triedCount > 0 && (newCount == 0 || Bool.random(using: &rng))
            let table = useTried ? triedTable : newTable
            // Probing random slots finds an address in a well-filled table at once; in a sparse one
            // (a young node's few entries), draw directly among the table's entries instead. Every
            // entry holds exactly one slot, so both ways weigh each entry equally.
            let address: NetAddress
            if !(useTried ? sparseTried : sparseNew) {
                let bucket = table[Int.random(in: 0..<table.count, using: &rng)]
                guard let slotted = bucket[Int.random(in: 0..<bucket.count, using: &rng)] else { continue }
                address = slotted
            } else {
                guard let drawn = (useTried ? triedPool : newPool).randomElement(using: &rng) else { continue }
                address = drawn
            }
            guard !exclude.contains(address), let e = entries_[address] else { continue }
            let chance = 1.0 / Double(1 << min(e.failures, 8))
            if Double.random(in: 0..<1, using: &rng) < chance { return address }
        }
        return nil
    }

    // MARK: - Internals

    private func isTerrible(_ e: Entry, now: MonotonicTime) -> Bool {
        now.since(e.lastHeard) > settings.horizon || (e.lastSuccess == nil && e.failures >= 3) || e.failures >= settings.maxFailures
    }

    private mutating func removeFromNew(_ address: NetAddress) {
        guard let e = entries_[address] else { return }
        let (b, s) = newSlot(address, source: e.source)
        if newTable[b][s] == address { newTable[b][s] = nil }
    }

    private mutating func evictFromTried(_ address: NetAddress) {
        let (b, s) = triedSlot(address)
        if triedTable[b][s] == address { triedTable[b][s] = nil }
        entries_[address] = nil
    }

    private func newSlot(_ address: NetAddress, source: NetAddress.Host) -> (Int, Int) {
        let sourceGroup = Self.group16(source)
        let inner = hash([0x01] + Self.group16(address.host) + sourceGroup) % UInt64(settings.newBucketsPerSourceGroup)
        let bucket = hash([0x02] + sourceGroup + le(inner)) % UInt64(settings.newBuckets)
        let slot = hash([0x03] + le(bucket) + Self.bytes(address)) % UInt64(settings.bucketSize)
        return (Int(bucket), Int(slot))
    }

    private func triedSlot(_ address: NetAddress) -> (Int, Int) {
        let inner = hash([0x04] + Self.bytes(address)) % UInt64(settings.triedBucketsPerGroup)
        let bucket = hash([0x05] + Self.group16(address.host) + le(inner)) % UInt64(settings.triedBuckets)
        let slot = hash([0x06] + le(bucket) + Self.bytes(address)) % UInt64(settings.bucketSize)
        return (Int(bucket), Int(slot))
    }

    private func hash(_ data: [UInt8]) -> UInt64 {
        let d = (try? Blake2b.hash(data, outputLength: 8, key: key.bytes)) ?? [UInt8](repeating: 0, count: 8)
        return d.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    private func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// The /16 of an IPv4 address or the /32 of an IPv6 one: the unit an attacker pays for.
    static func group16(_ host: NetAddress.Host) -> [UInt8] {
        switch host {
        case let .ipv4(a, b, _, _): return [4, a, b]
        case let .ipv6(high, _): return [6] + (0..<4).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
        }
    }

    static func bytes(_ address: NetAddress) -> [UInt8] {
        var out: [UInt8]
        switch address.host {
        case let .ipv4(a, b, c, d): out = [4, a, b, c, d]
        case let .ipv6(high, low): out = [6] + (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
        }
        return out + [UInt8(address.port >> 8), UInt8(address.port & 0xff)]
    }
}
