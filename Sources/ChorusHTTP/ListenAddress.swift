/// Where an HTTP listener binds: `HOST:PORT` (port 0 picks a free one) or `unix:PATH`.
/// Shared by the worker server, the OpenAI-compatible API and the admin listener, so every
/// `--listen`-style flag accepts the same forms.
public enum ListenAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `unix:PATH`.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case let .tcp(host, port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case let .unix(path): "unix:\(path)"
        }
    }

    /// True for addresses only this machine can reach (loopback TCP or a Unix socket).
    public var isLocalOnly: Bool {
        switch self {
        case let .tcp(host, _): host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
        case .unix: true
        }
    }
}
