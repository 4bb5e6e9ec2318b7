import ChorusCrypto
import ChorusMesh
import ChorusWire
import Logging
import Testing
@testable import ChorusNode

/// A `ServiceHost` for the discovery service: a manual clock, and every message sent and event
/// emitted kept for the test to read.
final class DiscoveryHostForTests: ServiceHost {
    var time = MonotonicTime.zero
    var sent: [(to: Ed25519.PublicKey, message: PeerExchangeMessage)] = []
    var events: [NodeEvent] = []
    var disconnected: [String] = []

    func now() -> MonotonicTime { time }
    func send(_ payload: [UInt8], tag: UInt8, to peer: Ed25519.PublicKey, priority: SendPriority) -> Bool {
        #expect(tag == DiscoveryService.tag && priority == .control)
        sent.append((peer, try! PeerExchangeMessage(decoding: payload[...])))
        return true
    }
    func sendDatagram(_ bytes: [UInt8], to destination: NetAddress) -> Bool { false }
    func isConnected(_ peer: Ed25519.PublicKey) -> Bool { true }
    func disconnect(_ peer: Ed25519.PublicKey, because reason: String) { disconnected.append(reason) }
    func offload<Result: Sendable>(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> Result,
                                   then: @escaping (Result) -> Void) -> Bool {
        then(work())
        return true
    }
    func makeTimer() -> any ServiceTimer { fatalError("the discovery service runs on the node's tick") }
    func emit(_ event: NodeEvent) { events.append(event) }

    /// The addresses of every `dialCandidates` event so far, one list per event.
    var dialed: [[NetAddress]] {
        events.compactMap { if case let .dialCandidates(list) = $0 { list.map(\.0) } else { nil } }
    }
    var forged: [Ed25519.PublicKey] {
        events.compactMap { if case let .peerRecordForged(peer) = $0 { peer } else { nil } }
    }
}

/// The discovery service under a manual clock: the rate limit of address answers, the cadence of
/// top-ups from the book, and peer exchange on outbound sessions.
@Suite struct DiscoveryServiceTests {
    static let network = "chorus-test"
    static let unixMs: UInt64 = 1_767_225_600_000

    /// The service, its host, and the connection rules' view it reads (settable by the test).
    final class Fixture {
        let host = DiscoveryHostForTests()
        let key = Ed25519.SigningKey.generate()
        var missingOutbound = 0
        var known: [NetAddress] = []
        private(set) var service: DiscoveryService!

        init() {
            service = DiscoveryService(
                host: host, signingKey: key,
                settings: .init(networkID: DiscoveryServiceTests.network, role: .full, models: [], allowPrivateAddresses: false),
                store: nil, seed: 7, bookKey: Bytes32([UInt8](repeating: 1, count: 32))!, logger: Logger(label: "discovery-test"),
                node: .init(missingOutbound: { [unowned self] in missingOutbound },
                            knownAddresses: { [unowned self] in known },
                            unixMilliseconds: { DiscoveryServiceTests.unixMs }))
        }

        func request(_ own: PeerRecord? = nil, from peer: Ed25519.PublicKey) {
            service.received(PeerExchangeMessage.request(own: own).encoded()[...], from: peer)
        }
    }

    static func record(_ key: Ed25519.SigningKey, seq: UInt64 = 1, address: String) throws -> PeerRecord {
        try PeerRecord(signingWith: key, networkID: network, seq: seq, issuedAtMs: unixMs, role: .full,
                       addresses: [try NetAddress(parsing: address)], models: [])
    }

    @Test func eachAskerIsAnsweredOnceAMinute() throws {
        let f = Fixture()
        let alice = Ed25519.SigningKey.generate().publicKey, bob = Ed25519.SigningKey.generate().publicKey
        f.service.peerConnected(alice, outbound: false, remote: try NetAddress(parsing: "203.0.113.1:40000"))
        f.service.peerConnected(bob, outbound: false, remote: try NetAddress(parsing: "203.0.113.2:40000"))
        #expect(f.host.sent.isEmpty)  // inbound sessions are not asked

        f.request(from: alice)
        #expect(f.host.sent.map(\.to) == [alice])
        f.host.time = f.host.time + .seconds(30)
        f.request(from: alice)  // within the minute: refused
        f.request(from: bob)    // another asker has its own minute
        #expect(f.host.sent.map(\.to) == [alice, bob])
        #expect(f.service.counters.peerExchangeRefused == 1)
        f.host.time = f.host.time + .seconds(29)
        f.request(from: alice)
        #expect(f.service.counters.peerExchangeRefused == 2)
        f.host.time = f.host.time + .seconds(1)  // 60 s after the first answer
        f.request(from: alice)
        #expect(f.host.sent.map(\.to) == [alice, bob, alice])
        #expect(f.service.counters.peerExchangeRefused == 2)
        for (_, message) in f.host.sent {
            guard case .records = message else { Issue.record("an answer must carry records"); continue }
        }
    }

    @Test func topUpsComeEveryTenTicksWhileOutboundSlotsAreMissing() throws {
        let f = Fixture()
        let addresses = try (1...5).map { try NetAddress(parsing: "203.0.113.\($0):7700") }
        f.service.learn(addresses.map { ($0, nil) }, from: .ipv4(198, 51, 100, 1))
        f.known = [addresses[0]]
        f.missingOutbound = 2
        for _ in 0..<(DiscoveryService.topUpTicks - 1) { f.service.tick() }
        #expect(f.host.dialed.isEmpty)
        f.service.tick()
        #expect(f.host.dialed.count == 1)
        let drawn = try #require(f.host.dialed.first)
        #expect(drawn.count == 2 && Set(drawn).count == 2)
        #expect(!drawn.contains(addresses[0]) && Set(drawn).isSubset(of: Set(addresses)))

        f.missingOutbound = 0
        for _ in 0..<(2 * DiscoveryService.topUpTicks) { f.service.tick() }
        #expect(f.host.dialed.count == 1)
        f.missingOutbound = 1
        for _ in 0..<DiscoveryService.topUpTicks { f.service.tick() }
        #expect(f.host.dialed.count == 2 && f.host.dialed.last?.count == 1)
    }

    @Test func outboundPeersAreAskedAndOnlyTheirAnswersAreFiled() throws {
        let f = Fixture()
        f.service.start(advertised: try NetAddress(parsing: "203.0.113.100:7700"))
        let own = try #require(f.service.ownRecord)
        #expect(own.seq == Self.unixMs && own.hasValidSignature)

        let relay = Ed25519.SigningKey.generate().publicKey
        let carol = Ed25519.SigningKey.generate()
        let carolRecord = try Self.record(carol, address: "203.0.113.50:7700")
        // An answer before any question is ignored.
        f.service.received(PeerExchangeMessage.records([carolRecord]).encoded()[...], from: relay)
        #expect(f.service.counters.peerExchangeRefused == 1 && f.service.peerRecords.count == 0)

        f.service.peerConnected(relay, outbound: true, remote: try NetAddress(parsing: "198.51.100.7:7700"))
        guard case let .request(sentOwn)? = f.host.sent.last?.message else { Issue.record("no request sent"); return }
        #expect(sentOwn == own)
        f.service.received(PeerExchangeMessage.records([carolRecord]).encoded()[...], from: relay)
        #expect(f.service.counters.recordsAccepted == 1 && f.service.counters.addressesLearned == 1)
        let filed = try #require(f.service.addressBook.entry(try NetAddress(parsing: "203.0.113.50:7700")))
        #expect(filed.identity == carol.publicKey && filed.source == .ipv4(198, 51, 100, 7))
        // A second answer was not asked for.
        f.service.received(PeerExchangeMessage.records([]).encoded()[...], from: relay)
        #expect(f.service.counters.peerExchangeRefused == 2)

        // An asker sending another's record as its own relays a forgery: reported for its score.
        f.request(try Self.record(Ed25519.SigningKey.generate(), address: "203.0.113.51:7700"), from: relay)
        #expect(f.host.forged == [relay] && f.service.counters.recordsForged == 1)
        // The answer it still gets holds this node's record and carol's, never the asker's own.
        guard case let .records(shared)? = f.host.sent.last?.message else { Issue.record("no answer"); return }
        #expect(Set(shared.map(\.publicKey)) == [own.publicKey, carol.publicKey])

        // A malformed message closes the session; after a disconnect no answer is awaited.
        f.service.received([PeerExchangeMessage.wireVersion, 9][...], from: relay)
        #expect(f.host.disconnected.count == 1)
        f.service.peerDisconnected(relay)
        f.service.received(PeerExchangeMessage.records([]).encoded()[...], from: relay)
        #expect(f.service.counters.peerExchangeRefused == 3)
    }

    @Test func aWorkingAddressIsPromotedWithoutAFeelerWhenNothingCollides() throws {
        let f = Fixture()
        let peer = Ed25519.SigningKey.generate().publicKey
        let address = try NetAddress(parsing: "203.0.113.9:7700")
        f.service.addressWorked(address, identity: peer)
        #expect(f.service.addressBook.entry(address)?.tried == true)
        #expect(f.host.dialed.isEmpty)
    }
}
