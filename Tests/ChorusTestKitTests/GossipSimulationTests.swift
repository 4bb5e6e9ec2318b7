import ChorusMesh
import ChorusTestKit
import Testing

/// Gossip dissemination at scale over the LAN profile (20 ms ± 5 ms one way, 0.5 % loss, 1 KiB).
@Suite struct GossipSimulationTests {
    @Test func thousandNodesGetEveryMessageWithinTwoSeconds() {
        let seed = SimulationEnvironment.seed(default: 1)
        let r = Scenarios.gossipPropagation(nodes: 1000, seed: seed)
        let p = r.propagation
        print("[sim] gossip 1000 nodes seed \(seed): latency p50 \(p.latencyMs.p50) ms p99 \(p.latencyMs.p99) ms",
              "max \(p.latencyMs.max) ms; duplicates/node/message \(p.duplicatesPerNodeMean) (max \(p.duplicatesPerNodeMax));",
              "completeness \(p.completeness); RPCs/node/message \(r.rpcsPerNodePerMessage); broken IWANT promises \(r.brokenPromises)")
        #expect(p.completeness == 1, "seed \(seed)")
        #expect(p.lateOrMissing == 0, "seed \(seed)")
        #expect(p.duplicatesPerNodeMean <= 1.5, "seed \(seed)")
    }

    @Test func chokingCutsDuplicatesWithoutLosingMessages() {
        let seed = SimulationEnvironment.seed(default: 2)
        var flooding = GossipSettings()
        flooding.choking = false
        let plain = Scenarios.gossipPropagation(nodes: 100, settings: flooding, seed: seed).propagation
        let choked = Scenarios.gossipPropagation(nodes: 100, seed: seed).propagation
        print("[sim] gossip 100 nodes seed \(seed): duplicates/node/message \(plain.duplicatesPerNodeMean) without",
              "choking, \(choked.duplicatesPerNodeMean) with; latency p50 \(plain.latencyMs.p50) vs \(choked.latencyMs.p50) ms,",
              "p99 \(plain.latencyMs.p99) vs \(choked.latencyMs.p99) ms")
        #expect(plain.completeness == 1 && choked.completeness == 1, "seed \(seed)")
        #expect(plain.duplicatesPerNodeMean > 4, "seed \(seed)")
        #expect(choked.duplicatesPerNodeMean <= 1.5, "seed \(seed)")
        // The Specs/targets.md T12 budget at 100 nodes.
        #expect(choked.latencyMs.p50 <= 100 && choked.latencyMs.p99 <= 250, "seed \(seed)")
    }
}
