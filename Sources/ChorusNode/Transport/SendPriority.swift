/// How urgent an outgoing message is. A link drains higher priorities first, and when a peer reads
/// too slowly the least urgent traffic is dropped first (each priority has its own bound).
public enum SendPriority: Int, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    /// Session control and protocol requests/answers the peer is waiting for.
    case control = 0
    /// Statements this node authored: losing them would mean the network never hears them.
    case publish = 1
    /// Forwarded gossip: other peers carry it too.
    case forward = 2
    /// Announcements and anti-entropy summaries: the cheapest to lose.
    case lazy = 3

    public static func < (a: SendPriority, b: SendPriority) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .control: return "control"
        case .publish: return "publish"
        case .forward: return "forward"
        case .lazy: return "lazy"
        }
    }
}
