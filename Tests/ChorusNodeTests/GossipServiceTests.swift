import ChorusCrypto
import ChorusMesh
import ChorusWire
import Logging
import Testing
@testable import ChorusNode

/// A `ServiceHost` for the gossip service under test: a manual clock whose timers fire as it
/// advances, sessions that keep every RPC sent with its priority, and verification work that runs
/// when the test says (as the pool's results come back on a later loop turn).
final class GossipTestHostForTests: ServiceHost {
    final class TimerForTests: ServiceTimer {
        unowned let host: GossipTestHostForTests
        var due: MonotonicTime?
        var interval: Duration?
        var handler: (() -> Void)?

        init(host: GossipTestHostForTests) { self.host = host }

        func schedule(after delay: Duration, repeatingEvery interval: Duration?, _ handler: @escaping () -> Void) {
            due = host.time + delay
            self.interval = interval
            self.handler = handler
        }

        func cancel() {
            due = nil
            handler = nil
        }

        func close() { cancel() }
    }

    struct Sent {
        var peer: Ed25519.PublicKey
        var rpc: GossipRPC
        var priority: SendPriority
    }

    var time = MonotonicTime.zero
    var sent: [Sent] = []
    var disconnected: [(peer: Ed25519.PublicKey, reason: String)] = []
    var events: [NodeEvent] = []
    var timers: [TimerForTests] = []
    private var offloaded: [() -> Void] = []

    func now() -> MonotonicTime { time }

    func send(_ payload: [UInt8], tag: UInt8, to peer: Ed25519.PublicKey, priority: SendPriority) -> Bool {
        #expect(tag == GossipService.tag)
        do { sent.append(Sent(peer: peer, rpc: try GossipRPC(decoding: payload[...], maxPayload: 1 << 20), priority: priority)) } catch {
            Issue.record("the service sent an RPC that does not decode: \(error)")
        }
        return true
    }

    func sendDatagram(_ bytes: [UInt8], to destination: NetAddress) -> Bool { false }
    func isConnected(_ peer: Ed25519.PublicKey) -> Bool { true }
    func disconnect(_ peer: Ed25519.PublicKey, because reason: String) { disconnected.append((peer, reason)) }

    func offload<Result: Sendable>(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> Result,
                                   then: @escaping (Result) -> Void) -> Bool {
        offloaded.append { then(work()) }
        return true
    }

    func makeTimer() -> any ServiceTimer {
        let timer = TimerForTests(host: self)
        timers.append(timer)
        return timer
    }

    func emit(_ event: NodeEvent) { events.append(event) }

    /// Runs the verification work queued so far, and its results on the "loop".
    func runOffloaded() {
        while !offloaded.isEmpty { offloaded.removeFirst()() }
    }

    /// Moves the clock on by `duration`, firing every timer that falls due on the way, in order.
    func advance(by duration: Duration) {
        let end = time + duration
        while let timer = timers.filter({ $0.due.map { $0 <= end } ?? false }).min(by: { $0.due! < $1.due! }) {
            time = timer.due!
            timer.due = timer.interval.map { time + $0 }
            timer.handler?()
        }
        time = end
    }

    /// What was sent since the last call.
    func takeSent() -> [Sent] {
        defer { sent = [] }
        return sent
    }

    var scoreEvents: Int { events.count { if case .gossipScores = $0 { true } else { false } } }
}

/// The gossip service under a manual clock: mesh upkeep on its heartbeat, the send queue of each
/// kind of RPC, the score-saving cadence, and the journal's injected wall clock.
@Suite struct GossipServiceTests {
    static let topic = "chat"
    static let networkID = "test-net"

    /// A service under a test host, with an intake that verifies without a store.
    final class SideForTests {
        let host = GossipTestHostForTests()
        let key = Ed25519.SigningKey.generate()
        /// The wall clock the service is given, in Unix nanoseconds.
        var wallClock: UInt64 = 1_000
        let intake: StatementIntake
        private(set) var service: GossipService!

        init(settings: GossipSettings = GossipSettings()) {
            intake = StatementIntake(host: host, store: nil, policy: StatementPolicy(networkID: GossipServiceTests.networkID, allowedTypes: nil),
                                     localIdentity: key.publicKey, epochBound: { nil }, isBudgeted: { _ in false })
            service = GossipService(host: host, settings: settings, maxMessageSize: 4 << 20, seed: 7, intake: intake,
                                    unixNanos: { [unowned self] in wallClock },
                                    logger: Logger(label: "gossip-test") { _ in SwiftLogNoOpLogHandler() })
        }

        /// Peers with sessions up, each subscribed to the topic.
        func connect(_ count: Int) -> [Ed25519.PublicKey] {
            (0..<count).map { _ in
                let peer = Ed25519.SigningKey.generate().publicKey
                service.peerConnected(peer, outbound: true, remote: nil)
                var hello = GossipRPC()
                hello.subscribe = [GossipServiceTests.topic]
                service.received(hello.encoded()[...], from: peer)
                return peer
            }
        }

        func sign(_ text: String, key: Ed25519.SigningKey? = nil, seq: UInt64 = 1) throws -> SignedStatement {
            try SignedStatement.sign(networkID: GossipServiceTests.networkID, type: .text, epoch: 0, seq: seq, body: Array(text.utf8),
                                     key: key ?? self.key)
        }

        var mesh: Set<String> { Set(service.meshStatus().topics.first { $0.topic == GossipServiceTests.topic }?.peers ?? []) }
    }

    static func small() -> GossipSettings {
        var settings = GossipSettings()
        settings.d = 3
        settings.dLow = 3
        settings.dHigh = 5
        settings.dScore = 2
        settings.dOut = 1
        return settings
    }

    @Test func theHeartbeatRefillsAMeshSlotLeftByADisconnection() {
        let side = SideForTests(settings: Self.small())
        side.service.start(topics: [Self.topic])
        let peers = side.connect(5)
        // The mesh was short when the first three subscribed: they were grafted at once.
        let grafts = side.host.takeSent().filter { $0.rpc.graft == [Self.topic] }
        #expect(grafts.map(\.peer) == Array(peers.prefix(3)))
        #expect(grafts.allSatisfy { $0.priority == .control })
        #expect(side.mesh == Set(peers.prefix(3).map(\.hex)))

        side.service.peerDisconnected(peers[1])
        #expect(side.mesh.count == 2)
        side.host.advance(by: .milliseconds(699))
        #expect(side.host.sent.isEmpty && side.service.heartbeats == 0)
        side.host.advance(by: .milliseconds(1))
        #expect(side.service.heartbeats == 1)
        let refill = side.host.takeSent().filter { $0.rpc.graft == [Self.topic] }
        #expect(refill.count == 1 && refill.allSatisfy { $0.priority == .control })
        #expect(refill.first.map { peers.suffix(2).contains($0.peer) } == true)
        #expect(side.mesh.count == 3 && !side.mesh.contains(peers[1].hex))
        side.host.advance(by: .milliseconds(700))
        #expect(side.service.heartbeats == 2 && side.host.takeSent().allSatisfy { $0.rpc.graft.isEmpty })
    }

    @Test func ownStatementsArePublishedAheadOfForwardedOnesAndAnnouncementsGoLast() throws {
        let side = SideForTests(settings: Self.small())
        side.service.start(topics: [Self.topic])
        let peers = side.connect(5)
        side.host.advance(by: .milliseconds(700))
        let meshPeers = peers.filter { side.mesh.contains($0.hex) }
        let others = peers.filter { !side.mesh.contains($0.hex) }
        #expect(meshPeers.count == 3 && others.count == 2)
        _ = side.host.takeSent()

        // Own: flooded to every subscribed peer at publish priority.
        let own = try side.sign("mine", seq: side.service.nextSeq())
        #expect(side.service.publish(own, on: Self.topic) == 5)
        let published = side.host.takeSent()
        #expect(Set(published.map(\.peer)) == Set(peers))
        #expect(published.allSatisfy { $0.priority == .publish && $0.rpc.messages.map(\.payload) == [own.encoded] })

        // Someone else's, from a mesh peer: verified off the loop first, then forwarded to the rest
        // of the mesh at forward priority, never back to its sender.
        let author = Ed25519.SigningKey.generate()
        let theirs = try side.sign("theirs", key: author)
        var rpc = GossipRPC()
        rpc.messages = [GossipMessage(topic: Self.topic, payload: theirs.encoded)]
        side.service.received(rpc.encoded()[...], from: meshPeers[0])
        #expect(side.host.takeSent().isEmpty)  // nothing leaves before the verdict
        side.host.runOffloaded()
        let forwarded = side.host.takeSent()
        #expect(Set(forwarded.map(\.peer)) == Set(meshPeers.dropFirst()))
        #expect(forwarded.allSatisfy { $0.priority == .forward && $0.rpc.messages.map(\.payload) == [theirs.encoded] })
        #expect(side.host.events.contains { if case let .statementAccepted(s) = $0 { s.id == theirs.id } else { false } })

        // The next heartbeat announces what the cache holds to the peers outside the mesh: IHAVE
        // alone is the cheapest to lose.
        side.host.advance(by: .milliseconds(700))
        let announced = side.host.takeSent().filter { !$0.rpc.ihave.isEmpty }
        #expect(Set(announced.map(\.peer)) == Set(others))
        #expect(announced.allSatisfy { $0.priority == .lazy })

        // The priority rule on its own.
        var graft = GossipRPC()
        graft.graft = [Self.topic]
        #expect(GossipService.priority(of: graft, ownMessage: nil) == .control)
        var iwant = GossipRPC()
        iwant.iwant = [own.id]
        iwant.idontwant = [theirs.id]
        #expect(GossipService.priority(of: iwant, ownMessage: nil) == .lazy)
        var both = GossipRPC()
        both.messages = [GossipMessage(topic: Self.topic, payload: own.encoded)]
        let ownID = GossipMessage(topic: Self.topic, payload: own.encoded).id
        #expect(GossipService.priority(of: both, ownMessage: ownID) == .publish)
        #expect(GossipService.priority(of: both, ownMessage: nil) == .forward)
    }

    @Test func scoresAreHandedOnEvery15HeartbeatsAndAtStop() {
        let side = SideForTests()
        side.service.start(topics: [Self.topic])
        _ = side.connect(2)
        side.host.advance(by: .milliseconds(700 * 14))
        #expect(side.service.heartbeats == 14 && side.host.scoreEvents == 0)
        side.host.advance(by: .milliseconds(700))
        #expect(side.host.scoreEvents == 1)
        side.host.advance(by: .milliseconds(700 * 15))
        #expect(side.service.heartbeats == 30 && side.host.scoreEvents == 2)
        guard case let .gossipScores(scores)? = side.host.events.last else {
            Issue.record("no scores handed on")
            return
        }
        #expect(scores.count == 2)
        side.service.stop()
        #expect(side.host.scoreEvents == 3)
        side.host.advance(by: .seconds(60))
        #expect(side.service.heartbeats == 30 && side.host.scoreEvents == 3)
        side.service.stop()
        #expect(side.host.scoreEvents == 3)
    }

    @Test func theJournalAndOwnSeqFollowTheInjectedWallClock() throws {
        let side = SideForTests()
        side.service.start(topics: [Self.topic])
        let peer = side.connect(1)[0]
        side.wallClock = 5_000
        #expect(side.service.nextSeq() == 5_000)
        #expect(side.service.nextSeq() == 5_001)  // the clock did not move: still rising
        let own = try side.sign("first", seq: 5_001)
        side.service.publish(own, on: Self.topic)

        side.wallClock = 9_000
        let theirs = try side.sign("second", key: .generate())
        var rpc = GossipRPC()
        rpc.messages = [GossipMessage(topic: Self.topic, payload: theirs.encoded)]
        side.service.received(rpc.encoded()[...], from: peer)
        side.wallClock = 9_500
        side.host.runOffloaded()

        let delivered = side.service.messages(topic: Self.topic, since: 0, limit: 10)
        #expect(delivered.map(\.data) == ["first", "second"])
        #expect(delivered.map(\.receivedUnixNanos) == [5_000, 9_500])
        #expect(delivered.map(\.from) == [nil, peer.hex])
        let id = GossipMessage(topic: Self.topic, payload: theirs.encoded).id
        #expect(side.service.trace(id) == [MessageReceipt(from: peer.hex, receivedUnixNanos: 9_000, first: true)])
        #expect(side.service.nextSeq() == 9_500)
    }

    @Test func malformedRPCsAndInvalidStatementsCostTheSender() throws {
        let side = SideForTests()
        side.service.start(topics: [Self.topic])
        let peers = side.connect(2)
        side.service.received([9, 9, 9], from: peers[0])
        #expect(side.host.disconnected.map(\.peer) == [peers[0]])
        #expect(side.host.disconnected.first?.reason.hasPrefix("malformed gossip RPC") == true)

        var bytes = try side.sign("forged", key: .generate()).encoded
        bytes[bytes.count - 1] ^= 1  // the signature no longer verifies
        var rpc = GossipRPC()
        rpc.messages = [GossipMessage(topic: Self.topic, payload: bytes)]
        side.service.received(rpc.encoded()[...], from: peers[1])
        side.host.runOffloaded()
        #expect(side.service.meshStatus().counters.invalid == 1)
        #expect(side.service.router.score(peers[1]) < 0)
        #expect(side.service.messages(topic: Self.topic, since: 0, limit: 10).isEmpty)
        #expect(side.host.takeSent().allSatisfy { $0.rpc.messages.isEmpty })
    }
}
