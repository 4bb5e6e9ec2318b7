/// What can go wrong running a node or talking to one. Each case says what failed and what to do.
public enum NodeError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String, String)
    case listenFailed(String, String)
    case controlSocketFailed(String, String)
    case notConnected(String)
    case pingTimedOut(String, Duration)
    case notRunning
    case invalidRequest(String)
    /// The node's store failed to take or commit something it was asked to keep.
    case storageFailed(String)

    public var description: String {
        switch self {
        case let .invalidAddress(text, why): return "invalid address \"\(text)\": \(why)"
        case let .listenFailed(address, why):
            return "cannot listen on \(address): \(why) (is another node using this port? pick another with --listen)"
        case let .controlSocketFailed(path, why):
            return "cannot open the control socket \(path): \(why) (can this user create files in the data directory? is its path under 108 bytes?)"
        case let .notConnected(peer): return "no session with peer \(peer); `chorus peers` lists the connected ones"
        case let .pingTimedOut(peer, after): return "peer \(peer) did not answer a ping within \(after)"
        case .notRunning: return "the node is not running"
        case let .invalidRequest(why): return why
        case let .storageFailed(why): return "\(why) (is the disk full or the data directory read-only? `chorus db stats` shows the store)"
        }
    }
}
