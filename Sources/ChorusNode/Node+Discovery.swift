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
