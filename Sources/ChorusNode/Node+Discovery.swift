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

/// Peer exchange (Specs/gossip.md §5): right after an outbound session comes up the node asks the
/// peer for addresses; a peer answers at most once a minute per asker, with up to 32 addresses it
/// has connected to; answers nobody asked for are ignored. Private and loopback addresses are
/// accepted only on networks configured for them.
extension Node {
    /// The session-message protocol tag of peer exchange.
    public static let peerExchangeTag: UInt8 = 3
    static let peerExchangeInterval: Duration = .seconds(60)

    func startPeerExchange() {
        setHandler(for: Self.peerExchangeTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.receivedPeerExchange(bytes, from: peer) }
        }
    }

    func askForAddresses(_ peer: Ed25519.PublicKey) {
        awaitingAddresses.insert(peer)
        send(PeerExchangeMessage.request.encoded(), tag: Self.peerExchangeTag, to: peer, priority: .control)
    }

    private func receivedPeerExchange(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let message: PeerExchangeMessage
        do { message = try PeerExchangeMessage(decoding: bytes) } catch {
            misbehaved(peer, because: "malformed peer exchange message: \(error)")
            return
        }
        switch message {
        case .request:
            let clock = ContinuousClock.now
            if let last = lastAddressAnswer[peer], last.duration(to: clock) < Self.peerExchangeInterval {
                counters.peerExchangeRefused += 1
                return
            }
            lastAddressAnswer[peer] = clock
            send(PeerExchangeMessage.addresses(addressesToShare(with: peer)).encoded(), tag: Self.peerExchangeTag, to: peer, priority: .control)
        case let .addresses(list):
            guard awaitingAddresses.remove(peer) != nil else {
                counters.peerExchangeRefused += 1
                return
            }
            guard let source = manager.establishedPeers[peer].flatMap({ links[$0]?.remoteAddress?.host }) else { return }
            let acceptable = list.filter { configuration.allowPrivateAddresses || !$0.address.isPrivateOrLoopback }
            counters.addressesLearned += acceptable.count
            learnAddresses(acceptable.map { ($0.address, $0.identity) }, from: source)
        }
    }

    /// Up to 32 addresses that worked (tried entries and current peers' dialable addresses), never
    /// the asker's own.
    func addressesToShare(with asker: Ed25519.PublicKey) -> [PeerExchangeMessage.PeerAddress] {
        var chosen: [NetAddress: Ed25519.PublicKey?] = [:]
        for (identity, id) in manager.establishedPeers where identity != asker {
            guard let link = links[id] else { continue }
            let dialable = link.direction == .outbound ? manager.connections[id]?.address
                : link.remote?.listenAddress.flatMap { try? NetAddress(parsing: $0) }
            if let dialable { chosen[dialable] = identity }
        }
        for entry in addressBook.entries where entry.tried && entry.identity != asker {
            chosen[entry.address] = entry.identity
        }
        if let own = advertisedAddress.flatMap({ try? NetAddress(parsing: $0) }) { chosen[own] = publicKey }
        var list = chosen.map { PeerExchangeMessage.PeerAddress(address: $0.key, identity: $0.value) }
        list.shuffle(using: &discoveryRNG)
        return Array(list.prefix(PeerExchangeMessage.maxAddresses))
    }
}
