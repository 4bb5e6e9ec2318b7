import ChorusCrypto
import ChorusMesh
import Foundation

/// Where the discovery service (`DiscoveryService.swift`) meets the node: session messages of tag 3
/// feed it, the node's tick drives its top-ups and saves, dials report to its book, and what it
/// wants dialed reaches the connection rules through the composition (`NodeEvent.dialCandidates`).
extension Node {
    /// The session-message protocol tag of peer exchange.
    public static let peerExchangeTag: UInt8 = DiscoveryService.tag

    /// The service `Node.discovery` is (made on first use: the book exists before `start`).
    func makeDiscovery() -> DiscoveryService {
        DiscoveryService(
            host: serviceHost, signingKey: signingKey,
            settings: .init(networkID: configuration.networkID, role: configuration.role, models: configuration.servedModels,
                            allowPrivateAddresses: configuration.allowPrivateAddresses),
            store: addressStore, seed: discoverySeed, bookKey: SecureRandom.bytes32(), logger: logger,
            node: .init(
                missingOutbound: { [unowned self] in
                    assumeIsolated { $0.configuration.connections.outboundTarget - $0.manager.count(.outbound) }
                },
                knownAddresses: { [unowned self] in assumeIsolated { $0.manager.knownAddresses.map(\.0) } },
                unixMilliseconds: { Node.unixMilliseconds() }))
    }

    /// Loads the address book, signs this node's record, and answers peer exchange.
    func startDiscovery() {
        discovery.start(advertised: advertisedAddress.flatMap { try? NetAddress(parsing: $0) })
        setHandler(for: Self.peerExchangeTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.discovery.received(bytes, from: peer) }
        }
    }

    /// Dials the previous run's outbound peers before anyone else (a warm restart).
    func dialAnchors() {
        manager.addAnchors(discovery.takeAnchors().map { ($0.0, $0.1) })
    }

    /// Saves this run's outbound peers as anchors, and the address book.
    func stopDiscovery() {
        discovery.stop(anchors: manager.outboundSessionAddresses)
    }

    /// Files addresses heard from `source` (seeds, remembered peers, peer exchange).
    public func learnAddresses(_ addresses: [(NetAddress, Ed25519.PublicKey?)], from source: NetAddress.Host) {
        discovery.learn(addresses, from: source)
    }

    /// The address book (Specs/gossip.md §5).
    var addressBook: AddressBook { discovery.addressBook }
    /// Signed peer records heard of (newest per key).
    var peerRecords: PeerRecordBook { discovery.peerRecords }
    /// This node's own record (nil without an advertised address).
    var ownRecord: PeerRecord? { discovery.ownRecord }

    static func unixMilliseconds() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }
}
