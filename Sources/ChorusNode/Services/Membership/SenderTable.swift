import ChorusCrypto
import ChorusMesh

/// Replay windows of the datagram senders the membership service tracks, bounded. When the table is
/// full, the oldest sender that is not a member makes room, so an attacker minting keys neither
/// grows the table without bound nor locks an honest newcomer out (18,000 throwaway senders once did).
struct SenderTable {
    /// Senders tracked for replay at most.
    let capacity: Int
    private(set) var windows: [Ed25519.PublicKey: ReplayWindow] = [:]
    /// Senders in the order they were first tracked (`orderHead` marks the oldest still listed).
    private var order: [Ed25519.PublicKey] = []
    private var orderHead = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { windows.count }

    /// Starts tracking `sender`, evicting the oldest non-member when the table is full. Returns
    /// false when every sender near the head of the order is a member (the datagram is dropped),
    /// and the evicted sender, if any.
    mutating func track(_ sender: Ed25519.PublicKey, isMember: (Ed25519.PublicKey) -> Bool)
        -> (tracked: Bool, evicted: Ed25519.PublicKey?) {
        if windows[sender] != nil { return (true, nil) }
        var evicted: Ed25519.PublicKey?
        if windows.count >= capacity {
            for _ in 0..<64 where orderHead < order.count {
                let oldest = order[orderHead]
                orderHead += 1
                guard windows[oldest] != nil else { continue }
                if isMember(oldest) {
                    order.append(oldest)  // members keep their window: rotate past them
                    continue
                }
                windows[oldest] = nil
                evicted = oldest
                break
            }
            if orderHead > 4096, orderHead * 2 > order.count {
                order.removeFirst(orderHead)
                orderHead = 0
            }
            guard evicted != nil else { return (false, nil) }
        }
        windows[sender] = ReplayWindow()
        order.append(sender)
        return (true, evicted)
    }

    /// Accepts `counter` from a tracked `sender` unless it was seen or fell behind its window.
    mutating func accept(_ counter: UInt64, from sender: Ed25519.PublicKey) -> Bool {
        windows[sender, default: ReplayWindow()].accept(counter)
    }
}
