import ChorusCrypto
import ChorusMesh

/// The standard simulator scenarios, shared by the tests and `SimulationReport`. Each builds a fresh
/// `Simulation` from its seed, so any result can be replayed from the numbers it reports.
public enum Scenarios {
    // MARK: - Gossip propagation

    public struct GossipPropagationResult: Sendable, Equatable, Codable {
        public var nodes: Int
        public var seed: UInt64
        public var deadlineMs: Double
        public var propagation: PropagationSummary
        /// Gossip RPCs sent per node per published message (every kind: payloads, IHAVE, IWANT, IDONTWANT).
        public var rpcsPerNodePerMessage: Double
        public var messagesLost: Int
        public var eventsProcessed: Int
        /// IWANT promises broken, summed over the honest nodes (lost packets break honest ones too).
        public var brokenPromises = 0
        /// At the end: (honest node, adversary) pairs where the adversary sits in the honest node's mesh.
        public var meshLinksToAdversaries = 0
    }

    /// `messages` payloads of `payloadBytes`, one every 100 ms from random nodes, checked against a 2 s
    /// delivery deadline. A 3 s warm-up comes first, in which the meshes form and (from 0.5 s on) one
    /// message every 200 ms flows, so the measured messages see the steady state.
    public static func gossipPropagation(nodes: Int, messages: Int = 20, payloadBytes: Int = 1024,
                                         network: NetworkModel = .lan, settings: GossipSettings = .init(),
                                         adversaries: [Int: any GossipAdversary] = [:],
                                         seed: UInt64) -> GossipPropagationResult {
        var config = Simulation.Configuration(nodes: nodes, seed: seed)
        config.network = network
        config.gossip = settings
        config.adversaries = adversaries
        let sim = Simulation(config)
        // Honest nodes publish, and propagation is measured over honest receivers only.
        let honest = (0..<nodes).filter { adversaries[$0] == nil }
        func publish(at time: MonotonicTime, tag: Int) {
            sim.schedule(at: time) { s in
                let publisher = honest[Int(Simulation.derive(seed, 20, UInt64(bitPattern: Int64(tag))) % UInt64(honest.count))]
                s.publish(from: publisher, payload: s.payload(bytes: payloadBytes, tag: tag))
            }
        }
        for k in 0..<12 { publish(at: .zero + .milliseconds(500 + 200 * Int64(k)), tag: -1 - k) }
        sim.run(for: .seconds(3))
        let first = sim.publishedCount
        let rpcsBefore = sim.gossipRPCsSent
        let start = sim.now
        for k in 0..<messages { publish(at: start + .milliseconds(100 * Int64(k)), tag: k) }
        let deadline = Duration.seconds(2)
        sim.run(for: .milliseconds(100 * Int64(messages)) + deadline)
        var result = GossipPropagationResult(
            nodes: nodes, seed: seed, deadlineMs: Double(deadline.nanoseconds) / 1e6,
            propagation: sim.propagation(messages: first..<sim.publishedCount, deadline: deadline,
                                         receivers: adversaries.isEmpty ? nil : { _ in honest }),
            rpcsPerNodePerMessage: Double(sim.gossipRPCsSent - rpcsBefore) / Double(nodes * max(messages, 1)),
            messagesLost: sim.messagesLost, eventsProcessed: sim.eventsProcessed)
        for node in honest {
            guard let router = sim.router(of: node) else { continue }
            result.brokenPromises += router.counters.brokenPromises
            let mesh = router.mesh[config.topic] ?? []
            result.meshLinksToAdversaries += adversaries.keys.filter { mesh.contains(sim.ids[$0]) }.count
        }
        return result
    }

    // MARK: - Crash detection

    public struct CrashDetectionResult: Sendable, Equatable, Codable {
        public var nodes: Int
        public var seed: UInt64
        public var crashes: Int
        /// Crash until the first live node marks the crashed one dead, in seconds.
        public var firstNodeSeconds: Percentiles
        /// Crash until every live node has marked it dead, in seconds.
        public var allNodesSeconds: Percentiles
        /// Crashes some live node never noticed before the run ended.
        public var undetected: Int
        public var falseDeaths: Int
        public var suspectMarksOfRunningNodes: Int
        public var swimMessagesPerNodePerSecond: Double
        public var eventsProcessed: Int
    }

    /// After a 5 s warm-up, crashes a random node every `interval` (never one that crashed in the last
    /// minute) and restarts it `restartAfter` later through three random seeds, so the cluster stays
    /// near `nodes` members; runs until every crash had `restartAfter` to be noticed.
    public static func crashDetection(nodes: Int, crashes: Int, interval: Duration = .seconds(4),
                                      restartAfter: Duration = .seconds(20), network: NetworkModel = .lan,
                                      settings: MembershipSettings = .init(), seed: UInt64) -> CrashDetectionResult {
        var config = Simulation.Configuration(nodes: nodes, seed: seed)
        config.network = network
        config.membership = settings
        let sim = Simulation(config)
        sim.run(for: .seconds(5))
        let start = sim.now
        var picker = SplitMix64(seed: Simulation.derive(seed, 21, 0))
        var lastCrash = [MonotonicTime?](repeating: nil, count: nodes)
        for k in 0..<crashes {
            sim.run(until: start + interval * k)
            let eligible = sim.liveNodes.filter { i in
                sim.state(of: i) == .up && lastCrash[i].map { sim.now.since($0) > .seconds(60) } ?? true
            }
            guard !eligible.isEmpty else { continue }
            let victim = eligible[Int(picker.next() % UInt64(eligible.count))]
            lastCrash[victim] = sim.now
            sim.crash(victim)
            let seeds = (0..<3).map { _ in eligible[Int(picker.next() % UInt64(eligible.count))] }.filter { $0 != victim }
            sim.schedule(at: sim.now + restartAfter) { s in s.restart(victim, seeds: seeds) }
        }
        sim.run(for: restartAfter)
        let detections = sim.crashDetections
        let seconds = { (d: Duration) in Double(d.nanoseconds) / 1e9 }
        return CrashDetectionResult(
            nodes: nodes, seed: seed, crashes: detections.count,
            firstNodeSeconds: Percentiles(detections.compactMap(\.firstDetection).map(seconds)),
            allNodesSeconds: Percentiles(detections.compactMap(\.allDetection).map(seconds)),
            undetected: detections.filter { $0.allDetection == nil }.count,
            falseDeaths: sim.falseDeaths.count, suspectMarksOfRunningNodes: sim.suspectMarksOfRunningNodes,
            swimMessagesPerNodePerSecond: Double(sim.swimMessagesSent) / Double(nodes) / seconds(sim.now.since(.zero)),
            eventsProcessed: sim.eventsProcessed)
    }

    // MARK: - Pauses (false positives)

    public struct PauseResult: Sendable, Equatable, Codable {
        public var nodes: Int
        public var seed: UInt64
        public var pausedNodes: Int
        public var pauses: Int
        public var simulatedSeconds: Double
        public var falseDeaths: Int
        /// Suspicions (per observer) of nodes that were paused: expected, and refuted in time.
        public var suspectMarksOfPausedNodes: Int
        /// Suspicions of nodes that were not paused: noise from the detector itself.
        public var suspectMarksOfRunningNodes: Int
        public var refutations: Int
        public var maxLocalHealth: Int
        public var eventsProcessed: Int
    }

    /// `pausedFraction` of the nodes stop for `pause` every `every`, each at its own random phase, for
    /// `duration`: no node may be declared dead.
    public static func pauses(nodes: Int, pausedFraction: Double = 0.1, pause: Duration = .milliseconds(1500),
                              every: Duration = .seconds(30), duration: Duration, network: NetworkModel = .lan,
                              settings: MembershipSettings = .init(), seed: UInt64) -> PauseResult {
        var config = Simulation.Configuration(nodes: nodes, seed: seed)
        config.network = network
        config.membership = settings
        let sim = Simulation(config)
        var picker = SplitMix64(seed: Simulation.derive(seed, 22, 0))
        let paused = Array(Array(0..<nodes).shuffled(using: &picker).prefix(Int((Double(nodes) * pausedFraction).rounded())))
        var count = 0
        var maxHealth = 0
        for node in paused {
            var at = MonotonicTime.zero + .nanoseconds(Int64(picker.next() % every.nanoseconds))
            while at + pause < .zero + duration {
                sim.schedule(at: at) { s in s.pause(node, for: pause) }
                count += 1
                at = at + every
            }
        }
        // Sample the local health multipliers once per second.
        var t = MonotonicTime.zero
        while t < .zero + duration {
            t = t + .seconds(1)
            sim.schedule(at: t) { s in
                maxHealth = max(maxHealth, s.liveNodes.compactMap { s.membership(of: $0)?.localHealth }.max() ?? 0)
            }
        }
        sim.run(until: .zero + duration)
        let refutations = sim.liveNodes.compactMap { sim.membership(of: $0)?.counters.refutations }.reduce(0, +)
        return PauseResult(nodes: nodes, seed: seed, pausedNodes: paused.count, pauses: count,
                           simulatedSeconds: Double(duration.nanoseconds) / 1e9, falseDeaths: sim.falseDeaths.count,
                           suspectMarksOfPausedNodes: sim.suspectMarksOfPausedNodes,
                           suspectMarksOfRunningNodes: sim.suspectMarksOfRunningNodes,
                           refutations: refutations, maxLocalHealth: maxHealth,
                           eventsProcessed: sim.eventsProcessed)
    }

    // MARK: - Partition and healing

    public struct PartitionHealResult: Sendable, Equatable, Codable {
        public var nodes: Int
        public var seed: UInt64
        public var partitionSeconds: Double
        /// Every node had declared every node of the other side dead before the partition healed.
        public var sidesSeparated: Bool
        /// Dead marks of nodes on one's own side (must be zero).
        public var deathsWithinSides: Int
        /// Messages published during the partition, to the publisher's side.
        public var duringPartition: PropagationSummary
        /// Heal until every node sees every other node alive (not suspect), in seconds (nil: not within 60 s).
        public var convergenceSeconds: Double?
        /// Messages published after the membership converged, to everyone.
        public var afterHealing: PropagationSummary
        public var eventsProcessed: Int
    }

    /// Membership and gossip together: a 10 s warm-up, a partition into two halves for `partition`,
    /// healing, and one message per second from random nodes throughout.
    public static func partitionHeal(nodes: Int, partition: Duration = .seconds(60), network: NetworkModel = .lan,
                                     membership: MembershipSettings = .init(), gossip: GossipSettings = .init(),
                                     seed: UInt64) -> PartitionHealResult {
        var config = Simulation.Configuration(nodes: nodes, seed: seed)
        config.network = network
        config.membership = membership
        config.gossip = gossip
        let sim = Simulation(config)
        var picker = SplitMix64(seed: Simulation.derive(seed, 23, 0))
        let left = Set(Array(0..<nodes).shuffled(using: &picker).prefix(nodes / 2))
        let side = { (i: Int) in left.contains(i) }
        func publishEverySecond(for d: Duration) {
            let start = sim.now
            var k = 0
            while start + .seconds(Int64(k)) < start + d {
                sim.schedule(at: start + .seconds(Int64(k)) + .milliseconds(500)) { s in
                    let live = s.liveNodes
                    let publisher = live[Int(picker.next() % UInt64(live.count))]
                    s.publish(from: publisher, payload: s.payload(bytes: 1024, tag: s.publishedCount))
                }
                k += 1
            }
            sim.run(for: d)
        }
        sim.run(for: .seconds(10))
        sim.partition([left])
        let firstDuring = sim.publishedCount
        publishEverySecond(for: partition)
        let lastDuring = sim.publishedCount
        let separated = (0..<nodes).allSatisfy { o in
            (0..<nodes).allSatisfy { m in m == o || side(m) == side(o) || sim.membership(of: o)?.status(of: sim.ids[m]) == .dead }
        }
        sim.heal()
        let healedAt = sim.now
        var convergedAt: MonotonicTime?
        while convergedAt == nil, sim.now < healedAt + .seconds(60) {
            sim.run(for: .milliseconds(100))
            let converged = (0..<nodes).allSatisfy { i in
                guard let m = sim.membership(of: i) else { return false }
                return m.clusterSize == nodes && m.allMembers.allSatisfy { $0.status == .alive }
            }
            if converged { convergedAt = sim.now }
        }
        let firstAfter = sim.publishedCount
        publishEverySecond(for: .seconds(10))
        sim.run(for: .seconds(3))
        let during = sim.propagation(messages: firstDuring..<lastDuring, deadline: .seconds(2)) { m in
            (0..<nodes).filter { side($0) == side(sim.publisherOf(m)) }
        }
        return PartitionHealResult(
            nodes: nodes, seed: seed, partitionSeconds: Double(partition.nanoseconds) / 1e9,
            sidesSeparated: separated,
            deathsWithinSides: sim.falseDeaths.filter { side($0.observer) == side($0.member) }.count,
            duringPartition: during,
            convergenceSeconds: convergedAt.map { Double($0.since(healedAt).nanoseconds) / 1e9 },
            afterHealing: sim.propagation(messages: firstAfter..<sim.publishedCount, deadline: .seconds(2)),
            eventsProcessed: sim.eventsProcessed)
    }
}
