import ChorusCrypto

/// Message ids seen recently, forgotten after a TTL. Drops duplicates without unbounded growth.
struct SeenCache: Sendable {
    private var expiry: [Bytes32: MonotonicTime] = [:]
    private var order: [(Bytes32, MonotonicTime)] = []
    private var head = 0

    var count: Int { expiry.count }

    func contains(_ id: Bytes32) -> Bool { expiry[id] != nil }

    /// Returns false when the id was already present.
    mutating func insert(_ id: Bytes32, expires: MonotonicTime) -> Bool {
        guard expiry[id] == nil else { return false }
        expiry[id] = expires
        order.append((id, expires))
        return true
    }

    mutating func expire(now: MonotonicTime) {
        while head < order.count, order[head].1 <= now {
            expiry[order[head].0] = nil
            head += 1
        }
        if head > 4096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}

/// The last `historyLength` heartbeats of accepted messages: answers IWANT and feeds IHAVE.
struct MessageCache: Sendable {
    private var windows: [[Bytes32]]
    private var messages: [Bytes32: GossipMessage] = [:]
    private let gossipWindows: Int

    init(historyLength: Int, gossipWindows: Int) {
        windows = Array(repeating: [], count: max(historyLength, 1))
        self.gossipWindows = min(gossipWindows, max(historyLength, 1))
    }

    mutating func put(_ message: GossipMessage) {
        guard messages[message.id] == nil else { return }
        messages[message.id] = message
        windows[0].append(message.id)
    }

    func get(_ id: Bytes32) -> GossipMessage? { messages[id] }

    /// Ids of the recent windows for `topic`, newest first.
    func gossipIDs(topic: Topic) -> [Bytes32] {
        windows.prefix(gossipWindows).flatMap { $0 }.filter { messages[$0]?.topic == topic }
    }

    mutating func shift() {
        for id in windows.removeLast() { messages[id] = nil }
        windows.insert([], at: 0)
    }
}
