import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusWire
import Foundation
import Synchronization
import Testing
@testable import ChorusNode

/// SWIM on real nodes over loopback UDP: members are learned from sessions, a node that vanishes
/// without a goodbye is declared dead by every other node in time, nobody healthy is, and forged,
/// replayed or malformed datagrams are counted and change nothing.
@Suite(.serialized) struct NodeMembershipTests {
    /// `count` nodes that all seed the first one.
    static func cluster(_ count: Int) async throws -> [NodeHarnessForTests] {
        let first = try await NodeHarnessForTests()
        var nodes = [first]
        for _ in 1..<count {
            nodes.append(try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [first.address])))
        }
        return nodes
    }

    static func counts(_ node: NodeHarnessForTests) async -> MemberCounts { await node.node.membershipCounts() ?? MemberCounts() }

    static func state(of victim: NodeHarnessForTests, at observer: NodeHarnessForTests) async -> String? {
        await observer.node.members()?.members.first { $0.publicKey == victim.key.publicKey.hex }?.state
    }

    @Test func aNodeThatVanishesIsDeclaredDeadByEveryOtherNodeAndNobodyElseIs() async throws {
        let nodes = try await Self.cluster(5)
        let victim = nodes[4]
        let observers = Array(nodes[..<4])
        defer { Task { for n in observers { await n.shutdown() } } }
        let formed = await eventually(timeout: .seconds(20)) {
            for n in nodes where await Self.counts(n) != MemberCounts(alive: 4) { return false }
            return true
        }
        #expect(formed, "every node learns the 4 others as alive")
        // Running normally for a while: no suspicion ends in a death.
        try await Task.sleep(for: .seconds(3))
        for n in nodes {
            #expect(await Self.counts(n).dead == 0, "no false deaths while every node runs")
        }

        // The victim's loop stops without a goodbye: its sockets close, nothing is announced.
        victim.loop.shutdown()
        let stoppedAt = ContinuousClock.now
        // Suspicion max at N = 5 is 6 × 2 s = 12 s (without confirmations), plus probe rounds and spreading.
        let detected = await eventually(timeout: .seconds(20)) {
            for n in observers where await Self.state(of: victim, at: n) != "dead" { return false }
            return true
        }
        #expect(detected, "every observer declares the victim dead")
        let took = stoppedAt.duration(to: .now)
        #expect(took < .seconds(20))
        for n in observers {
            let counts = await Self.counts(n)
            #expect(counts.dead == 1 && counts.alive == 3, "only the victim is dead: \(counts)")
            let datagrams = try #require(await n.node.members()?.datagrams)
            #expect(datagrams.datagramsReceived > 0 && datagrams.badSignature == 0 && datagrams.malformed == 0)
        }
    }

    /// Specs/membership.md §10: a member confirmed dead loses its sessions even while TCP still works
    /// (its UDP went silent), and when it is alive again the others reach it again.
    @Test func aDeadVerdictClosesTheSessionAndAliveAgainReconnects() async throws {
        let nodes = try await Self.cluster(4)
        let victim = nodes[3]
        let observers = Array(nodes[..<3])
        defer { Task { for n in nodes { await n.shutdown() } } }
        #expect(await eventually(timeout: .seconds(20)) {
            for n in nodes where await Self.counts(n) != MemberCounts(alive: 3) { return false }
            return await !victim.node.connectedPeers.isEmpty
        })
        // Its UDP goes silent without a goodbye; its TCP sessions stay up.
        await victim.node.silenceMembershipForTests()
        #expect(await eventually(timeout: .seconds(25)) {
            for n in observers where await Self.state(of: victim, at: n) != "dead" { return false }
            return true
        }, "every observer declares the silent victim dead")
        var closed = 0
        for n in observers { closed += await n.node.currentCounters.closes["member_dead"] ?? 0 }
        #expect(closed >= 1, "an observer with a session to the victim closed it on the verdict")
        for n in observers {
            #expect(await Self.counts(n) == MemberCounts(alive: 2, dead: 1), "only the victim is dead")
        }

        // Back: it refutes, every observer sees it alive, and it has sessions again.
        await victim.node.resumeMembershipForTests()
        #expect(await eventually(timeout: .seconds(30)) {
            for n in observers where await Self.state(of: victim, at: n) != "alive" { return false }
            return await !victim.node.connectedPeers.isEmpty
        }, "the victim is alive again everywhere and connected")
    }

    @Test func aNodeThatStopsAnnouncesItsDepartureAndIsDeadAtOnce() async throws {
        let nodes = try await Self.cluster(3)
        let leaver = nodes[2]
        defer { Task { for n in nodes[..<2] { await n.shutdown() } } }
        #expect(await eventually(timeout: .seconds(15)) {
            for n in nodes where await Self.counts(n) != MemberCounts(alive: 2) { return false }
            return true
        })
        await leaver.shutdown()
        // Well under the 2 s suspicion minimum: the leave is taken at once, without a suspicion.
        #expect(await eventually(timeout: .seconds(1.5)) {
            for n in nodes[..<2] where await Self.state(of: leaver, at: n) != "dead" { return false }
            return true
        })
        for n in nodes[..<2] {
            #expect(await n.node.members()?.suspicionsRaised == 0, "nobody had to suspect the node that left")
        }
    }

    @Test func theControlSocketAnswersMembersAndStatusCountsThem() async throws {
        try await ControlSocketTests.withControl { harness, path in
            let peer = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [harness.address]))
            #expect(await eventually(timeout: .seconds(15)) { await Self.counts(harness) == MemberCounts(alive: 1) })
            let members = try await ControlClient.call(ControlRequest(method: "members"), socketPath: path, as: MembersResult.self)
            #expect(members.publicKey == harness.key.publicKey.hex)
            #expect(members.counts == MemberCounts(alive: 1))
            let only = try #require(members.members.first)
            #expect(only.publicKey == peer.key.publicKey.hex && only.state == "alive" && only.address == peer.address)
            let status = try await ControlClient.call(ControlRequest(method: "status"), socketPath: path, as: NodeStatus.self)
            #expect(status.members == MemberCounts(alive: 1))
            await peer.shutdown()
        }
    }

    @Test func forgedReplayedAndMalformedDatagramsAreCountedAndChangeNothing() async throws {
        let nodes = try await Self.cluster(2)
        defer { Task { for n in nodes { await n.shutdown() } } }
        let (a, b) = (nodes[0], nodes[1])
        #expect(await eventually(timeout: .seconds(15)) { await Self.counts(a) == MemberCounts(alive: 1) })
        let target = try SocketAddress(parsing: a.address)
        let loop = try EventLoop(name: "udp-attacker")
        defer { loop.shutdown() }
        let attacker = UDPAttackerForTests(loop: loop)
        // "b is dead", claiming to come from b but signed by another key.
        let impostor = Ed25519.SigningKey.generate()
        let deadB = SWIMMessage(.gossip, updates: [MemberUpdate(member: b.key.publicKey, status: .dead, incarnation: 99, source: b.key.publicKey)])
        let forged = SWIMDatagram(sender: b.key.publicKey, counter: UInt64.max - 1, message: deadB).signed(with: impostor, networkID: NodeHarnessForTests.networkID)
        // A genuine datagram of b's, for another network.
        let otherNetwork = SWIMDatagram(sender: b.key.publicKey, counter: UInt64.max - 2, message: deadB).signed(with: b.key, networkID: "other-net")
        // A genuine ping from a third identity, sent twice: the second copy is a replay.
        let stranger = Ed25519.SigningKey.generate()
        let ping = SWIMDatagram(sender: stranger.publicKey, counter: 5, message: SWIMMessage(.ping(sequence: 1)))
            .signed(with: stranger, networkID: NodeHarnessForTests.networkID)
        try await attacker.send([forged, otherNetwork, [1, 2, 3], Array(repeating: 0xff, count: 2000), ping, ping], to: target)
        #expect(await eventually {
            guard let d = await a.node.members()?.datagrams else { return false }
            return d.badSignature == 2 && d.malformed == 1 && d.oversize == 1 && d.replayed == 1
        })
        try await Task.sleep(for: .seconds(1))
        #expect(await Self.state(of: b, at: a) == "alive", "the forged death changed nothing")
        await attacker.close()
    }
}

extension NodeMembershipTests {
    static func datagram(_ key: Ed25519.SigningKey, counter: UInt64, _ message: SWIMMessage) -> [UInt8] {
        SWIMDatagram(sender: key.publicKey, counter: counter, message: message).signed(with: key, networkID: NodeHarnessForTests.networkID)
    }

    /// One throwaway key once listed 5,000 invented members: all were accepted as alive and spread,
    /// and a real crash then went unnoticed for 90 s. Relayed members are now pinged first: invented
    /// ones never answer and are never admitted, and one source keeps at most 256 waiting.
    @Test func inventedMembersAreNeverAdmitted() async throws {
        let nodes = try await Self.cluster(2)
        defer { Task { for n in nodes { await n.shutdown() } } }
        let (a, b) = (nodes[0], nodes[1])
        #expect(await eventually(timeout: .seconds(15)) { await Self.counts(a) == MemberCounts(alive: 1) })
        let loop = try EventLoop(name: "udp-inventor")
        defer { loop.shutdown() }
        let attacker = UDPAttackerForTests(loop: loop)
        let inventor = Ed25519.SigningKey.generate()
        var datagrams: [[UInt8]] = []
        for k in 0..<100 {
            let invented = (0..<12).map { _ in
                MemberUpdate(member: Ed25519.SigningKey.generate().publicKey, status: .alive, incarnation: 0,
                             address: try! NetAddress(parsing: "127.0.0.1:9"))
            }
            datagrams.append(Self.datagram(inventor, counter: UInt64(k + 1), SWIMMessage(.gossip, updates: invented)))
        }
        try await attacker.send(datagrams, to: try SocketAddress(parsing: a.address))
        #expect(await eventually { await a.node.members()?.datagrams.datagramsReceived ?? 0 >= 100 })
        let waiting = await a.node.swimCandidates()
        #expect(waiting > 0 && waiting <= 256, "\(waiting) candidates")
        // None answers: after the candidate timeout none is a member, and nothing of it spread to b.
        try await Task.sleep(for: .seconds(6))
        #expect(await Self.counts(a) == MemberCounts(alive: 1))
        #expect(await a.node.swimCandidates() == 0)
        #expect(await Self.counts(b) == MemberCounts(alive: 1))
        await attacker.close()
    }

    /// A 115-byte sync request from a throwaway key once drew 126 KB to its (forgeable) source
    /// address. A full-state reply to a requester without a session is now one datagram.
    @Test func fullStateRepliesToStrangersAreOneDatagram() async throws {
        let a = try await NodeHarnessForTests()
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "udp-reflector")
        defer { loop.shutdown() }
        let attacker = UDPAttackerForTests(loop: loop)
        let target = try SocketAddress(parsing: a.address)
        // 30 members that each introduce themselves first-hand (their own alive, signed by them).
        var introductions: [[UInt8]] = []
        for _ in 0..<30 {
            let key = Ed25519.SigningKey.generate()
            introductions.append(Self.datagram(key, counter: 1, SWIMMessage(.gossip, updates: [
                MemberUpdate(member: key.publicKey, status: .alive, incarnation: 0, address: try NetAddress(parsing: "127.0.0.1:9"))])))
        }
        try await attacker.send(introductions, to: target)
        #expect(await eventually { (await a.node.members()?.members.count ?? 0) >= 30 })
        let stranger = Ed25519.SigningKey.generate()
        let request = Self.datagram(stranger, counter: 1, SWIMMessage(.sync(members: [
            MemberUpdate(member: stranger.publicKey, status: .alive, incarnation: 0)], isReply: false)))
        try await attacker.send([request], to: target)
        #expect(await eventually { await a.node.members()?.datagrams.repliesTruncated == 1 })
        try await Task.sleep(for: .milliseconds(300))
        let replies = attacker.received().filter { d in
            if case .sync(_, isReply: true) = d.message.kind { return true } else { return false }
        }
        #expect(replies.count == 1)
        #expect(request.count * 13 >= 1400)  // one datagram: at most ~12 times the request
        await attacker.close()
    }

    /// 18,000 throwaway senders once filled the replay table and an honest newcomer's datagrams were
    /// dropped. The oldest non-members now make room. (A table of 200 here; 16,384 by default.)
    @Test func throwawaySendersDoNotLockOutANewcomer() async throws {
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.membershipSenders = 200
        let a = try await NodeHarnessForTests(configuration: configuration)
        defer { Task { await a.shutdown() } }
        let loop = try EventLoop(name: "udp-minter")
        defer { loop.shutdown() }
        let attacker = UDPAttackerForTests(loop: loop)
        let target = try SocketAddress(parsing: a.address)
        for _ in 0..<3 {
            let burst = (0..<100).map { _ in Self.datagram(.generate(), counter: 1, SWIMMessage(.ping(sequence: 1))) }
            try await attacker.send(burst, to: target)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await eventually { (await a.node.members()?.datagrams.sendersEvicted ?? 0) >= 50 })
        let d = try #require(await a.node.members()?.datagrams)
        #expect(d.replayTableFull == 0)
        let newcomer = Ed25519.SigningKey.generate()
        try await attacker.send([Self.datagram(newcomer, counter: 1, SWIMMessage(.gossip, updates: [
            MemberUpdate(member: newcomer.publicKey, status: .alive, incarnation: 0, address: try NetAddress(parsing: "127.0.0.1:9"))]))],
                                to: target)
        #expect(await eventually { await a.node.members()?.members.contains { $0.publicKey == newcomer.publicKey.hex } == true })
        await attacker.close()
    }
}

/// Sends raw datagrams from its own loop (a test double for a hostile host) and keeps what it receives.
actor UDPAttackerForTests {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    private var socket: UDPSocket?
    private let inbox = InboxForTests()

    /// What the socket received (written on the loop, read by the test).
    final class InboxForTests: Sendable {
        let datagrams = Mutex<[[UInt8]]>([])
    }

    init(loop: EventLoop) { self.loop = loop }

    func send(_ datagrams: [[UInt8]], to target: SocketAddress) throws {
        let inbox = self.inbox
        let socket = try self.socket ?? UDPSocket(bindingTo: .loopbackIPv4(port: 0), on: loop) { bytes, _ in
            inbox.datagrams.withLock { $0.append(bytes) }
        }
        self.socket = socket
        for d in datagrams { socket.send(d, to: target) }
    }

    /// Every datagram received so far, decoded (those that verify for `networkID`).
    nonisolated func received(networkID: String = NodeHarnessForTests.networkID) -> [SWIMDatagram] {
        inbox.datagrams.withLock { $0 }.compactMap { try? SWIMDatagram(verifying: $0, networkID: networkID) }
    }

    func close() { socket?.close() }
}

extension Node {
    /// Closes the UDP sockets and timers of membership without announcing a departure (test double
    /// for a node whose datagrams are lost while its sessions stay up).
    func silenceMembershipForTests() { stopMembership(announce: false) }

    /// Starts membership again after `silenceMembershipForTests`.
    func resumeMembershipForTests() { startMembership() }
}
