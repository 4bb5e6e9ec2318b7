import ChorusCrypto
import ChorusMesh
import ChorusStore
import ChorusWire
import Logging

/// Discovery (Specs/gossip.md §5): the address book, peer exchange with signed peer records, and
/// this node's own record.
///
/// Address book: every address the node hears of is filed into addrman-style buckets; sessions
/// promote addresses to the tried table (testing an incumbent first when a slot collides); when
/// outbound connections are missing, addresses are drawn from the book. The book is saved every
/// minute and at stop; the outbound peers of the run are saved at stop as anchors, dialed first at
/// the next start.
///
/// Peer exchange: right after an outbound session comes up the node asks the peer for records,
/// sending its own; a peer answers at most once a minute per asker with up to 32 records (its own,
/// its peers', then a sample of those it holds); answers nobody asked for are ignored. A record is
/// filed only if it verifies and is newer than the one held; a forged one lowers the relaying
/// peer's gossip score.
///
/// What the connection rules should dial leaves as `NodeEvent.dialCandidates`, a forged record as
/// `NodeEvent.peerRecordForged`; sessions come in from the composition (`peerConnected`,
/// `peerDisconnected`). The node's 100 ms tick drives the top-ups and saves (`tick`).
final class DiscoveryService {
    /// The session-message protocol tag of peer exchange.
    static let tag: UInt8 = 3
    /// An asker gets one answer per interval at most.
    static let answerInterval: Duration = .seconds(60)
    /// Ticks between address-book top-ups (1 s) and saves (60 s).
    static let topUpTicks = 10
    static let saveTicks = 600
    /// Outbound peers saved at stop and dialed first at the next start (Bitcoin Core keeps 2).
    static let anchorCount = 2

    struct Settings {
        var networkID: String
        /// What this node's own record says of it.
        var role: PeerRecord.Role
        var models: [String]
        /// Whether records may carry private addresses (devnets).
        var allowPrivateAddresses: Bool
    }

    /// What the service needs of the node besides its host.
    struct NodeLink {
        /// Outbound sessions missing to the connection rules' target (≤ 0 when none is missing).
        var missingOutbound: () -> Int
        /// Addresses the connection rules already know (dialing, connected or waiting): never drawn.
        var knownAddresses: () -> [NetAddress]
        /// The wall clock in Unix milliseconds: peer records' issue times, the book's saved times.
        var unixMilliseconds: () -> UInt64
    }

    private unowned let host: any ServiceHost
    private let signingKey: Ed25519.SigningKey
    private let settings: Settings
    private let store: AddressBookStore?
    private let node: NodeLink
    private let logger: Logger
    private var rng: SplitMix64
    private(set) var addressBook: AddressBook
    /// The addresses in the store, so a save deletes those the book dropped.
    private var savedAddresses: Set<NetAddress> = []
    /// Signed peer records heard of (newest per key), and this node's own (nil without an address).
    private(set) var peerRecords: PeerRecordBook
    private(set) var ownRecord: PeerRecord?
    /// Sessions up, with the host of each one's remote address (the bucket group it speaks for).
    private var sessions: [Ed25519.PublicKey: NetAddress.Host?] = [:]
    /// Peers asked for records whose answer has not come.
    private var awaitingAddresses: Set<Ed25519.PublicKey> = []
    /// When each asker was last answered (the rate limit).
    private var lastAnswer: [Ed25519.PublicKey: MonotonicTime] = [:]
    private var ticks = 0
    private(set) var counters = DiscoveryCounters()

    /// - Parameters:
    ///   - store: where the book, the record seq and the anchors are kept; nil keeps them in memory.
    ///   - seed: seeds the draws from the book and the samples of records shared.
    ///   - bookKey: the secret bucket key of a book not loaded from the store.
    init(host: any ServiceHost, signingKey: Ed25519.SigningKey, settings: Settings, store: AddressBookStore?,
         seed: UInt64, bookKey: Bytes32, logger: Logger, node: NodeLink) {
        self.host = host
        self.signingKey = signingKey
        self.settings = settings
        self.store = store
        self.node = node
        self.logger = logger
        self.rng = SplitMix64(seed: seed)
        self.addressBook = AddressBook(key: bookKey)
        self.peerRecords = PeerRecordBook(localIdentity: signingKey.publicKey, settings: .init(
            networkID: settings.networkID, allowPrivateAddresses: settings.allowPrivateAddresses))
    }

    /// A seed for another service's generator, drawn from this one's (membership's).
    func drawSeed() -> UInt64 { rng.next() }

    // MARK: - Lifecycle

    /// Loads the saved book and signs this node's record for `advertised` (none without an address).
    func start(advertised: NetAddress?) {
        loadAddressBook()
        publishOwnRecord(advertised)
    }

    /// Saves `anchors` (the outbound peers of this run) and the book.
    func stop(anchors: [(NetAddress, Ed25519.PublicKey)]) {
        store?.saveAnchors(Array(anchors.prefix(Self.anchorCount)))
        save()
    }

    /// The previous run's outbound peers, to dial before anyone else (a warm restart); the store
    /// forgets them as it hands them out.
    func takeAnchors() -> [(NetAddress, Ed25519.PublicKey)] {
        guard let store else { return [] }
        do {
            let anchors = try store.takeAnchors()
            if !anchors.isEmpty { logger.info("dialing anchors first", metadata: ["count": "\(anchors.count)"]) }
            return anchors
        } catch {
            logger.error("cannot read the anchors", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Called on every node tick: tops the outbound slots up from the book every second, and saves
    /// the book every minute.
    func tick() {
        ticks += 1
        if ticks % Self.topUpTicks == 0 { topUp() }
        if ticks % Self.saveTicks == 0 { save() }
    }

    // MARK: - Address book

    private func loadAddressBook() {
        guard let store else { return }
        do {
            let (key, entries) = try store.load(now: host.now(), unixNow: unixSeconds())
            addressBook = AddressBook(key: key, restoring: entries)
            savedAddresses = Set(addressBook.entries.map(\.address))
            logger.info("loaded address book", metadata: ["entries": "\(addressBook.count)"])
        } catch {
            logger.error("cannot read the address book; starting with an empty one", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the book to the store (entries the book dropped are deleted).
    func save() {
        guard let store else { return }
        let current = Set(addressBook.entries.map(\.address))
        store.save(addressBook.entries, removed: Array(savedAddresses.subtracting(current)), now: host.now(), unixNow: unixSeconds())
        savedAddresses = current
    }

    /// Files addresses heard from `source` (seeds, remembered peers, peer exchange).
    func learn(_ addresses: [(NetAddress, Ed25519.PublicKey?)], from source: NetAddress.Host) {
        for (address, identity) in addresses {
            addressBook.add(address, identity: identity, source: source, now: host.now())
        }
    }

    /// Files seeds and remembered peers, each as its own source.
    func learnDialable(_ addresses: [(NetAddress, Ed25519.PublicKey?)]) {
        for (address, identity) in addresses {
            addressBook.add(address, identity: identity, source: address.host, now: host.now())
        }
    }

    /// A dial of `address` begins.
    func attempted(_ address: NetAddress) {
        addressBook.attempt(address, now: host.now())
    }

    /// A dial of `address` failed, or its connection closed before the handshake completed.
    func failed(_ address: NetAddress) {
        addressBook.failed(address, now: host.now())
    }

    /// A session came up with the peer dialable at `address`: promote it; dial a colliding
    /// incumbent as a feeler so that it is evicted only if it no longer answers.
    func addressWorked(_ address: NetAddress, identity: Ed25519.PublicKey) {
        addressBook.add(address, identity: identity, source: address.host, now: host.now())
        if let incumbent = addressBook.good(address, identity: identity, now: host.now()) {
            host.emit(.dialCandidates([(incumbent, addressBook.entry(incumbent)?.identity)]))
        }
    }

    /// Draws addresses from the book while outbound connections are missing.
    private func topUp() {
        let missing = node.missingOutbound()
        guard missing > 0, addressBook.count > 0 else { return }
        var known = Set(node.knownAddresses())
        var drawn: [(NetAddress, Ed25519.PublicKey?)] = []
        for _ in 0..<missing {
            guard let address = addressBook.select(using: &rng, now: host.now(), exclude: known) else { break }
            known.insert(address)
            drawn.append((address, addressBook.entry(address)?.identity))
        }
        if !drawn.isEmpty { host.emit(.dialCandidates(drawn)) }
    }

    // MARK: - Sessions

    /// A session came up: ask an outbound peer for records (sending this node's own).
    func peerConnected(_ peer: Ed25519.PublicKey, outbound: Bool, remote: NetAddress?) {
        sessions[peer] = remote?.host
        if outbound {
            awaitingAddresses.insert(peer)
            host.send(PeerExchangeMessage.request(own: ownRecord).encoded(), tag: Self.tag, to: peer, priority: .control)
        }
    }

    func peerDisconnected(_ peer: Ed25519.PublicKey) {
        sessions[peer] = nil
        awaitingAddresses.remove(peer)
    }

    // MARK: - Peer exchange

    /// A peer-exchange message from `peer` (the bytes after the tag); a malformed one closes its session.
    func received(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let message: PeerExchangeMessage
        do { message = try PeerExchangeMessage(decoding: bytes) } catch {
            if case .unknownVersion = error {
                counters.peerExchangeRefused += 1  // an older or newer peer: not an offence
                return
            }
            host.disconnect(peer, because: "malformed peer exchange message: \(error)")
            return
        }
        switch message {
        case let .request(own):
            if let own {
                // The asker's own record must be the asker's: anything else is forged.
                if own.publicKey == peer { consider([own], from: peer) } else { forged(by: peer) }
            }
            let now = host.now()
            if let last = lastAnswer[peer], now.since(last) < Self.answerInterval {
                counters.peerExchangeRefused += 1
                return
            }
            lastAnswer[peer] = now
            host.send(PeerExchangeMessage.records(recordsToShare(with: peer)).encoded(), tag: Self.tag, to: peer, priority: .control)
        case let .records(list):
            guard awaitingAddresses.remove(peer) != nil else {
                counters.peerExchangeRefused += 1
                return
            }
            consider(list, from: peer)
        }
    }

    /// A message on a temporary link (an inbound connection refused for lack of room, Specs/transport.md §5):
    /// a request is answered once, without the rate limit, and the asker's own record filed with
    /// `source`. Returns the answer's payload (after the tag); nil for anything but a request.
    func answerTemporary(_ bytes: ArraySlice<UInt8>, from identity: Ed25519.PublicKey, source: NetAddress.Host?) -> [UInt8]? {
        guard case let .request(own)? = try? PeerExchangeMessage(decoding: bytes) else { return nil }
        // File the newcomer's record, so this node (and whoever it tells) can dial it later.
        if let own, own.publicKey == identity, let source { consider([own], from: identity, source: source) }
        return PeerExchangeMessage.records(recordsToShare(with: identity)).encoded()
    }

    /// Offers `records` relayed by `peer` to the record book and files the accepted ones' addresses.
    private func consider(_ records: [PeerRecord], from peer: Ed25519.PublicKey) {
        guard let source = sessions[peer] ?? nil else { return }
        consider(records, from: peer, source: source)
    }

    /// As above, with the relaying peer's host (`source`, the bucket group it speaks for) given.
    private func consider(_ records: [PeerRecord], from peer: Ed25519.PublicKey, source: NetAddress.Host) {
        let nowMs = node.unixMilliseconds()
        for record in records {
            switch peerRecords.consider(record, nowMs: nowMs) {
            case .accepted:
                counters.recordsAccepted += 1
                counters.addressesLearned += record.addresses.count
                learn(record.addresses.map { ($0, record.publicKey) }, from: source)
            case .stale:
                counters.recordsStale += 1
            case .forged:
                forged(by: peer)
            case .own:
                break
            case .wrongNetwork, .fromTheFuture, .privateAddress:
                counters.recordsRefused += 1
            }
        }
    }

    private func forged(by peer: Ed25519.PublicKey) {
        counters.recordsForged += 1
        logger.notice("forged peer record", metadata: ["peer": "\(peer.hex.prefix(16))"])
        host.emit(.peerRecordForged(peer))
    }

    /// Up to 32 records: this node's, its current peers', then a random sample of the others held
    /// (those whose addresses are in the tried table first); never the asker's own.
    func recordsToShare(with asker: Ed25519.PublicKey) -> [PeerRecord] {
        var chosen: [PeerRecord] = ownRecord.map { [$0] } ?? []
        var taken: Set<Ed25519.PublicKey> = [signingKey.publicKey, asker]
        for identity in sessions.keys.sorted() where !taken.contains(identity) {
            if let record = peerRecords.record(for: identity) { chosen.append(record); taken.insert(identity) }
        }
        var tried: [PeerRecord] = [], untried: [PeerRecord] = []
        for record in peerRecords.all where !taken.contains(record.publicKey) {
            let isTried = record.addresses.contains { addressBook.entry($0)?.tried == true }
            if isTried { tried.append(record) } else { untried.append(record) }
        }
        tried.shuffle(using: &rng)
        untried.shuffle(using: &rng)
        // Records nobody has connected to yet must spread too, or a newcomer that only dials out
        // would never be dialed.
        for record in tried.prefix(16) + untried where chosen.count < PeerExchangeMessage.maxRecords {
            chosen.append(record)
        }
        chosen.shuffle(using: &rng)
        return Array(chosen.prefix(PeerExchangeMessage.maxRecords))
    }

    // MARK: - Own record

    /// Signs this node's record for this run: its advertised address, role and models, with a seq
    /// above every earlier run's (persisted in the address-book store; the Unix-ms clock otherwise).
    private func publishOwnRecord(_ advertised: NetAddress?) {
        guard let advertised else { return }
        let nowMs = node.unixMilliseconds()
        var seq = nowMs
        if let store {
            do { seq = try store.nextRecordSequence(floor: nowMs) } catch {
                logger.error("cannot persist the peer-record seq; using the clock", metadata: ["error": "\(error)"])
            }
        }
        do {
            ownRecord = try PeerRecord(signingWith: signingKey, networkID: settings.networkID, seq: seq, issuedAtMs: nowMs,
                                       role: settings.role, addresses: [advertised], models: settings.models)
        } catch {
            logger.error("cannot sign the peer record", metadata: ["error": "\(error)"])
        }
    }

    private func unixSeconds() -> UInt64 { node.unixMilliseconds() / 1000 }
}

/// What discovery counts; the node reports them among its counters (`NodeCounters`).
struct DiscoveryCounters: Equatable {
    /// Addresses accepted from peer exchange, and requests or answers refused by its rate limits.
    var addressesLearned = 0
    var peerExchangeRefused = 0
    /// Peer records accepted, refused as stale, forged, and refused for another reason.
    var recordsAccepted = 0
    var recordsStale = 0
    var recordsForged = 0
    var recordsRefused = 0

    func add(to counters: inout NodeCounters) {
        counters.addressesLearned += addressesLearned
        counters.peerExchangeRefused += peerExchangeRefused
        counters.recordsAccepted += recordsAccepted
        counters.recordsStale += recordsStale
        counters.recordsForged += recordsForged
        counters.recordsRefused += recordsRefused
    }
}
