/// The score counters of one peer (gossipsub v1.1 P1, P2, P4, P6, P7). The router updates them as
/// events happen and decays them every heartbeat; `value` combines them with the weights.
public struct PeerScore: Sendable, Equatable, Codable {
    /// Per-topic counters.
    public struct TopicCounters: Sendable, Equatable, Codable {
        public var meshSeconds = 0.0
        public var firstDeliveries = 0.0
        public var invalidMessages = 0.0
    }

    public var topics: [Topic: TopicCounters] = [:]
    public var behaviourPenalty = 0.0
    /// Other connected peers sharing this peer's IP (set by the router; not persisted meaningfully).
    public var colocatedPeers = 0

    public init() {}

    public func value(_ s: PeerScoreSettings) -> Double {
        var total = 0.0
        for c in topics.values {
            total += s.timeInMeshWeight * min(c.meshSeconds, s.timeInMeshCap / max(s.timeInMeshWeight, .ulpOfOne))
            total += s.firstDeliveryWeight * min(c.firstDeliveries, s.firstDeliveryCap)
            total += s.invalidMessageWeight * c.invalidMessages * c.invalidMessages
        }
        let surplus = Double(max(0, colocatedPeers + 1 - s.ipColocationThreshold))
        total += s.ipColocationWeight * surplus * surplus
        let excess = max(0, behaviourPenalty - s.behaviourPenaltyThreshold)
        total += s.behaviourPenaltyWeight * excess * excess
        return total
    }

    mutating func decay(_ s: PeerScoreSettings) {
        for (t, var c) in topics {
            c.firstDeliveries *= s.firstDeliveryDecay
            c.invalidMessages *= s.invalidMessageDecay
            if c.firstDeliveries < 0.01 { c.firstDeliveries = 0 }
            if c.invalidMessages < 0.01 { c.invalidMessages = 0 }
            topics[t] = c
        }
        behaviourPenalty *= s.behaviourPenaltyDecay
        if behaviourPenalty < 0.01 { behaviourPenalty = 0 }
    }
}
