import ChorusMesh
import ChorusTestKit
import Testing

/// SWIM with Lifeguard at 100 nodes over the LAN profile (20 ms ± 5 ms one way, 0.5 % loss).
@Suite struct MembershipSimulationTests {
    @Test func crashesAreDetectedEverywhereWithinTheTargets() {
        let seed = SimulationEnvironment.seed(default: 1)
        let r = Scenarios.crashDetection(nodes: 100, crashes: 30, seed: seed)
        print("[sim] crash detection 100 nodes seed \(seed), \(r.crashes) crashes: first node p50",
              "\(r.firstNodeSeconds.p50) s p99 \(r.firstNodeSeconds.p99) s; all nodes p50 \(r.allNodesSeconds.p50) s",
              "p99 \(r.allNodesSeconds.p99) s; \(r.swimMessagesPerNodePerSecond) messages/node/s")
        #expect(r.crashes == 30)
        #expect(r.undetected == 0, "seed \(seed)")
        #expect(r.allNodesSeconds.p50 <= 5, "seed \(seed)")
        #expect(r.allNodesSeconds.p99 <= 8, "seed \(seed)")
        #expect(r.falseDeaths == 0, "seed \(seed)")
    }

    @Test func pausedNodesAreNeverDeclaredDead() {
        let seed = SimulationEnvironment.seed(default: 1)
        let r = Scenarios.pauses(nodes: 100, duration: .seconds(120), seed: seed)
        report(r)
        #expect(r.falseDeaths == 0, "seed \(seed)")
        #expect(r.refutations > 0, "seed \(seed): the pauses should have been noticed")
    }

    @Test(.enabled(if: SimulationEnvironment.slowTestsEnabled, "set CHORUS_SLOW_TESTS=1"))
    func pausedNodesAreNeverDeclaredDeadInTenMinutes() {
        let seed = SimulationEnvironment.seed(default: 2)
        let r = Scenarios.pauses(nodes: 100, duration: .seconds(600), seed: seed)
        report(r)
        #expect(r.falseDeaths == 0, "seed \(seed)")
    }

    @Test func halvesSplitForAMinuteHealAndGossipGoesOn() throws {
        let seed = SimulationEnvironment.seed(default: 1)
        let r = Scenarios.partitionHeal(nodes: 100, seed: seed)
        let convergence = r.convergenceSeconds.map { "\($0) s" } ?? "never"
        print("[sim] partition 100 nodes seed \(seed): separated \(r.sidesSeparated), converged \(convergence) after",
              "healing; during: completeness \(r.duringPartition.completeness) p99 \(r.duringPartition.latencyMs.p99) ms;",
              "after: completeness \(r.afterHealing.completeness)")
        #expect(r.sidesSeparated, "seed \(seed)")
        #expect(r.deathsWithinSides == 0, "seed \(seed)")
        #expect(r.duringPartition.completeness == 1 && r.duringPartition.lateOrMissing == 0, "seed \(seed)")
        let converged = try #require(r.convergenceSeconds, "seed \(seed): membership never converged")
        #expect(converged <= 30, "seed \(seed)")
        #expect(r.afterHealing.completeness == 1 && r.afterHealing.lateOrMissing == 0, "seed \(seed)")
    }

    private func report(_ r: Scenarios.PauseResult) {
        print("[sim] pauses 100 nodes seed \(r.seed), \(r.simulatedSeconds) s: \(r.pauses) pauses of \(r.pausedNodes)",
              "nodes; false deaths \(r.falseDeaths); suspect marks of paused nodes \(r.suspectMarksOfPausedNodes), of",
              "running nodes \(r.suspectMarksOfRunningNodes); refutations \(r.refutations); max LHM \(r.maxLocalHealth)")
    }
}
