import ChorusCrypto
import ChorusMesh
import ChorusStore
import Foundation
import Logging

/// The address book on the node (Specs/gossip.md §5): every address the node hears of is filed
/// into addrman-style buckets; sessions promote addresses to the tried table (testing an incumbent
/// first when a slot collides); when outbound connections are missing, addresses are drawn from
/// the book. The book is saved to LMDB every minute and at stop.
extension Node {
    /// Ticks between address-book top-ups (1 s) and saves (60 s).
    static let topUpTicks = 10
    static let saveTicks = 600

    func loadAddressBook() {
        guard let addressStore else { return }
        do {
            let (key, entries) = try loadAddresses(addressStore, now: now(), unixNow: Self.unixSeconds())
            addressBook = AddressBook(key: key, restoring: entries)
            savedAddresses = Set(addressBook.entries.map(\.address))
            logger.info("loaded address book", metadata: ["entries": "\(addressBook.count)"])
        } catch {
            logger.error("cannot read the address book; starting with an empty one", metadata: ["error": "\(error)"])
        }
    }

    private nonisolated func loadAddresses(_ store: AddressBookStore, now: MonotonicTime, unixNow: UInt64) throws(StoreError)
        -> (key: Bytes32, entries: [AddressBook.Entry]) {
        try store.load(now: now, unixNow: unixNow)
    }

    /// Outbound peers saved at stop and dialed first at the next start (Bitcoin Core keeps 2).
    static let anchorCount = 2

    /// Dials the previous run's outbound peers before anyone else (a warm restart).
    func loadAnchors() {
        guard let addressStore else { return }
        do {
            let anchors = try takeAnchors(addressStore)
            manager.addAnchors(anchors.map { ($0.0, $0.1) })
            if !anchors.isEmpty { logger.info("dialing anchors first", metadata: ["count": "\(anchors.count)"]) }
        } catch {
            logger.error("cannot read the anchors", metadata: ["error": "\(error)"])
        }
    }

    private nonisolated func takeAnchors(_ store: AddressBookStore) throws(StoreError) -> [(NetAddress, Ed25519.PublicKey)] {
        try store.takeAnchors()
    }

    func saveAnchors() {
        addressStore?.saveAnchors(Array(manager.outboundSessionAddresses.prefix(Self.anchorCount)))
    }

    func saveAddressBook() {
        guard let addressStore else { return }
        let current = Set(addressBook.entries.map(\.address))
        addressStore.save(addressBook.entries, removed: Array(savedAddresses.subtracting(current)), now: now(), unixNow: Self.unixSeconds())
        savedAddresses = current
    }

    /// Files addresses heard from `source` (seeds, remembered peers, peer exchange).
    public func learnAddresses(_ addresses: [(NetAddress, Ed25519.PublicKey?)], from source: NetAddress.Host) {
        for (address, identity) in addresses {
            addressBook.add(address, identity: identity, source: source, now: now())
        }
    }

    /// A session came up with the peer dialable at `address`: promote it; dial a colliding
    /// incumbent as a feeler so that it is evicted only if it no longer answers.
    func addressWorked(_ address: NetAddress, identity: Ed25519.PublicKey) {
        addressBook.add(address, identity: identity, source: address.host, now: now())
        if let incumbent = addressBook.good(address, identity: identity, now: now()) {
            manager.addCandidates([(incumbent, addressBook.entry(incumbent)?.identity)])
        }
    }

    /// Draws addresses from the book while outbound connections are missing.
    func topUpFromAddressBook() {
        let missing = configuration.connections.outboundTarget - manager.count(.outbound)
        guard missing > 0, addressBook.count > 0 else { return }
        var known = Set(manager.knownAddresses.map(\.0))
        var drawn: [(NetAddress, Ed25519.PublicKey?)] = []
        for _ in 0..<missing {
            guard let address = addressBook.select(using: &discoveryRNG, now: now(), exclude: known) else { break }
            known.insert(address)
            drawn.append((address, addressBook.entry(address)?.identity))
        }
        if !drawn.isEmpty { manager.addCandidates(drawn) }
    }

    static func unixSeconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }
}

/// Peer exchange with signed peer records (Specs/gossip.md §5): right after an outbound session
/// comes up the node asks the peer for records, sending its own; a peer answers at most once a
/// minute per asker with up to 32 records (its own, its peers', then a sample of those it holds);
/// answers nobody asked for are ignored. A record is filed only if it verifies and is newer than
/// the one held; a forged one lowers the relaying peer's gossip score.
extension Node {
    /// The session-message protocol tag of peer exchange.
    public static let peerExchangeTag: UInt8 = 3
    static let peerExchangeInterval: Duration = .seconds(60)

    func startPeerExchange() {
        setHandler(for: Self.peerExchangeTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.receivedPeerExchange(bytes, from: peer) }
        }
    }

    /// Signs this node's record for this run: its advertised address, role and models, with a seq
    /// above every earlier run's (persisted in the address-book store; the Unix-ms clock otherwise).
    func publishOwnRecord() {
        guard let own = advertisedAddress.flatMap({ try? NetAddress(parsing: $0) }) else { return }
        let nowMs = Self.unixMilliseconds()
        var seq = nowMs
        if let addressStore {
            do { seq = try nextRecordSequence(addressStore, floor: nowMs) } catch {
                logger.error("cannot persist the peer-record seq; using the clock", metadata: ["error": "\(error)"])
            }
        }
        do {
            ownRecord = try PeerRecord(signingWith: signingKey, networkID: configuration.networkID, seq: seq, issuedAtMs: nowMs,
                                       role: configuration.role, addresses: [own], models: configuration.servedModels)
        } catch {
            logger.error("cannot sign the peer record", metadata: ["error": "\(error)"])
        }
    }

    private nonisolated func nextRecordSequence(_ store: AddressBookStore, floor: UInt64) throws(StoreError) -> UInt64 {
        try store.nextRecordSequence(floor: floor)
    }

    func askForAddresses(_ peer: Ed25519.PublicKey) {
        awaitingAddresses.insert(peer)
        send(PeerExchangeMessage.request(own: ownRecord).encoded(), tag: Self.peerExchangeTag, to: peer, priority: .control)
    }

    private func receivedPeerExchange(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let message: PeerExchangeMessage
        do { message = try PeerExchangeMessage(decoding: bytes) } catch {
            if case .unknownVersion = error {
                counters.peerExchangeRefused += 1  // an older or newer peer: not an offence
                return
            }
            misbehaved(peer, because: "malformed peer exchange message: \(error)")
            return
        }
        switch message {
        case let .request(own):
            if let own {
                // The asker's own record must be the asker's: anything else is forged.
                if own.publicKey == peer { consider([own], from: peer) } else { consider(forged: peer) }
            }
            let clock = ContinuousClock.now
            if let last = lastAddressAnswer[peer], last.duration(to: clock) < Self.peerExchangeInterval {
                counters.peerExchangeRefused += 1
                return
            }
            lastAddressAnswer[peer] = clock
            send(PeerExchangeMessage.records(recordsToShare(with: peer)).encoded(), tag: Self.peerExchangeTag, to: peer, priority: .control)
        case let .records(list):
            guard awaitingAddresses.remove(peer) != nil else {
                counters.peerExchangeRefused += 1
                return
            }
            consider(list, from: peer)
        }
    }

    /// Offers `records` relayed by `peer` to the record book and files the accepted ones' addresses.
    func consider(_ records: [PeerRecord], from peer: Ed25519.PublicKey) {
        guard let source = manager.establishedPeers[peer].flatMap({ links[$0]?.remoteAddress?.host }) else { return }
        consider(records, from: peer, source: source)
    }

    /// As above, with the relaying peer's host (`source`, the bucket group it speaks for) given.
    func consider(_ records: [PeerRecord], from peer: Ed25519.PublicKey, source: NetAddress.Host) {
        let nowMs = Self.unixMilliseconds()
        for record in records {
            switch peerRecords.consider(record, nowMs: nowMs) {
            case .accepted:
                counters.recordsAccepted += 1
                counters.addressesLearned += record.addresses.count
                learnAddresses(record.addresses.map { ($0, record.publicKey) }, from: source)
            case .stale:
                counters.recordsStale += 1
            case .forged:
                consider(forged: peer)
            case .own:
                break
            case .wrongNetwork, .fromTheFuture, .privateAddress:
                counters.recordsRefused += 1
            }
        }
    }

    private func consider(forged peer: Ed25519.PublicKey) {
        counters.recordsForged += 1
        logger.notice("forged peer record", metadata: ["peer": "\(peer.hex.prefix(16))"])
        performGossip(router.penalize(peer))
    }

    /// Up to 32 records: this node's, its current peers', then a random sample of the others held
    /// (those whose addresses are in the tried table first); never the asker's own.
    func recordsToShare(with asker: Ed25519.PublicKey) -> [PeerRecord] {
        var chosen: [PeerRecord] = ownRecord.map { [$0] } ?? []
        var taken: Set<Ed25519.PublicKey> = [publicKey, asker]
        for identity in manager.establishedPeers.keys.sorted() where !taken.contains(identity) {
            if let record = peerRecords.record(for: identity) { chosen.append(record); taken.insert(identity) }
        }
        var tried: [PeerRecord] = [], untried: [PeerRecord] = []
        for record in peerRecords.all where !taken.contains(record.publicKey) {
            let isTried = record.addresses.contains { addressBook.entry($0)?.tried == true }
            if isTried { tried.append(record) } else { untried.append(record) }
        }
        tried.shuffle(using: &discoveryRNG)
        untried.shuffle(using: &discoveryRNG)
        // Records nobody has connected to yet must spread too, or a newcomer that only dials out
        // would never be dialed.
        for record in tried.prefix(16) + untried where chosen.count < PeerExchangeMessage.maxRecords {
            chosen.append(record)
        }
        chosen.shuffle(using: &discoveryRNG)
        return Array(chosen.prefix(PeerExchangeMessage.maxRecords))
    }

    static func unixMilliseconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }
}
