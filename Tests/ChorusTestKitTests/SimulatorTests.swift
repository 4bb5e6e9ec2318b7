import ChorusMesh
import Testing
@testable import ChorusTestKit

/// The simulator's own mechanics: replay, pauses, partitions, crashes and restarts, the network model.
@Suite struct SimulatorTests {
    private func mixedRun(seed: UInt64) -> (digest: UInt64, delivered: Int, deaths: Int) {
        var config = Simulation.Configuration(nodes: 40, seed: seed)
        config.membership = MembershipSettings()
        config.gossip = GossipSettings()
        let sim = Simulation(config)
        sim.schedule(at: .seconds(1)) { $0.pause(3, for: .milliseconds(1500)) }
        sim.schedule(at: .seconds(2)) { $0.crash(5) }
        sim.schedule(at: .seconds(4)) { $0.partition([Set(0..<20)]) }
        sim.schedule(at: .seconds(9)) { $0.heal() }
        sim.schedule(at: .seconds(12)) { $0.restart(5, seeds: [0, 1]) }
        for k in 0..<15 {
            sim.schedule(at: .seconds(Double(k) + 0.5)) { s in s.publish(from: (k * 7) % 40, payload: s.payload(bytes: 64, tag: k)) }
        }
        sim.run(until: .seconds(18))
        let delivered = (0..<sim.publishedCount).map { m in (0..<40).filter { sim.deliveryTime(message: m, node: $0) != nil }.count }
        return (sim.traceDigest, delivered.reduce(0, +), sim.crashDetections.count + sim.falseDeaths.count)
    }

    @Test func sameSeedReplaysTheSameRunAndAnotherSeedDoesNot() {
        let a = mixedRun(seed: 7), b = mixedRun(seed: 7), c = mixedRun(seed: 8)
        #expect(a.digest == b.digest, "seed 7 did not replay")
        #expect(a.delivered == b.delivered && a.deaths == b.deaths)
        #expect(a.digest != c.digest)
    }

    @Test func pausedNodeProcessesNothingUntilItResumesThenRunsTimersFirst() throws {
        var config = Simulation.Configuration(nodes: 10, seed: 3)
        config.membership = MembershipSettings()
        let sim = Simulation(config)
        sim.run(until: .seconds(2))
        let before = try #require(sim.membership(of: 4)).counters
        sim.pause(4, for: .milliseconds(1500))
        sim.run(until: .seconds(3.4))
        #expect(sim.state(of: 4) == .paused)
        #expect(sim.membership(of: 4)?.counters == before)
        sim.run(until: .seconds(4))
        let after = try #require(sim.membership(of: 4)).counters
        #expect(sim.state(of: 4) == .up)
        #expect(after.messagesSent > before.messagesSent)
        // Its timers ran before its inbox, 1.5 s late: it noticed the stall instead of accusing anyone.
        #expect(after.stalls == 1)
        sim.run(until: .seconds(10))
        #expect(sim.falseDeaths.isEmpty)
    }

    @Test func partitionCutsCrossSideTrafficUntilHealed() {
        var config = Simulation.Configuration(nodes: 20, seed: 4)
        config.gossip = GossipSettings()
        config.network = NetworkModel(latency: .milliseconds(10), jitter: .zero, lossRate: 0)
        let sim = Simulation(config)
        sim.run(until: .seconds(2))
        sim.partition([Set(0..<10)])
        let cut = sim.publish(from: 0, payload: sim.payload(bytes: 100, tag: 1))!
        sim.run(for: .seconds(3))
        #expect((1..<10).allSatisfy { sim.deliveryTime(message: cut, node: $0) != nil })
        #expect((10..<20).allSatisfy { sim.deliveryTime(message: cut, node: $0) == nil })
        sim.heal()
        let healed = sim.publish(from: 0, payload: sim.payload(bytes: 100, tag: 2))!
        sim.run(for: .seconds(3))
        #expect((1..<20).allSatisfy { sim.deliveryTime(message: healed, node: $0) != nil })
    }

    @Test func crashedNodeIsDeclaredDeadEverywhereAndRejoinsAfterRestart() throws {
        var config = Simulation.Configuration(nodes: 20, seed: 5)
        config.membership = MembershipSettings()
        let sim = Simulation(config)
        sim.run(until: .seconds(1))
        sim.crash(7)
        sim.run(until: .seconds(16))
        let detection = try #require(sim.crashDetections.first)
        #expect(detection.node == 7)
        #expect(detection.observers.count == 19)
        #expect(detection.allDetection != nil)
        sim.restart(7, seeds: [0, 1])
        sim.run(until: .seconds(21))
        let rejoined = try #require(sim.membership(of: 7))
        #expect(rejoined.allMembers.count == 19 && rejoined.allMembers.allSatisfy { $0.status == .alive })
        for observer in 0..<20 where observer != 7 {
            let view = sim.membership(of: observer)?.member(sim.ids[7])
            #expect(view?.status == .alive)
            #expect((view?.incarnation ?? 0) >= 1)  // it refuted its own death
        }
        #expect(sim.falseDeaths.isEmpty)
    }

    @Test func networkDelaysStayWithinTheModelAndLinksStayFIFO() {
        let model = NetworkModel(latency: .milliseconds(20), jitter: .milliseconds(5), lossRate: 0.1)
        var net = SimulatedNetwork(model: model, nodes: 2, seed: 9)
        var last = MonotonicTime.zero
        var delivered = 0
        for k in 0..<10_000 {
            let now = MonotonicTime(nanoseconds: UInt64(k) * 1_000_000)
            guard let at = net.arrival(from: 0, to: 1, now: now) else { continue }
            delivered += 1
            #expect(at >= last)
            #expect(at.since(now) >= .milliseconds(15))
            #expect(at.since(now) <= .milliseconds(25))
            last = at
        }
        #expect(abs(Double(10_000 - delivered) / 10_000 - 0.1) < 0.02)
        net.group = [0, 1]
        #expect(net.arrival(from: 0, to: 1, now: .seconds(20)) == nil)
    }
}
