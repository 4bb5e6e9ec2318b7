/// A dialable IP endpoint in the pure layer (the shell converts to and from libuv socket addresses).
///
/// The pure layer needs only what the connection rules look at: the address family, the bytes that
/// define its network group (/24 for IPv4, /64 for IPv6, the unit of the inbound-per-group limit),
/// and whether it is loopback or private (records advertising those are accepted only on networks
/// configured for them).
public struct NetAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        case ipv4(UInt8, UInt8, UInt8, UInt8)
        /// Sixteen bytes, network order, as two big-endian halves.
        case ipv6(high: UInt64, low: UInt64)
    }

    public let host: Host
    public let port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `a.b.c.d:port` or `[v6]:port`.
    public init(parsing text: String) throws(NetAddressError) {
        guard let colon = text.lastIndex(of: ":") else { throw .malformed(text, "missing :port") }
        guard let port = UInt16(text[text.index(after: colon)...]) else { throw .malformed(text, "port must be 0-65535") }
        var hostText = Substring(text[..<colon])
        if hostText.hasPrefix("[") && hostText.hasSuffix("]") {
            hostText = hostText.dropFirst().dropLast()
            guard let v6 = Self.parseIPv6(hostText) else { throw .malformed(text, "invalid IPv6 address") }
            self.init(host: v6, port: port)
        } else {
            guard let v4 = Self.parseIPv4(hostText) else { throw .malformed(text, "invalid IPv4 address (IPv6 needs [brackets])") }
            self.init(host: v4, port: port)
        }
    }

    /// The network group: the first three bytes of an IPv4 address, the first eight of an IPv6 one.
    public var group: Host {
        switch host {
        case let .ipv4(a, b, c, _): return .ipv4(a, b, c, 0)
        case let .ipv6(high, _): return .ipv6(high: high, low: 0)
        }
    }

    public var isLoopback: Bool {
        switch host {
        case let .ipv4(a, _, _, _): return a == 127
        case let .ipv6(high, low): return high == 0 && low == 1
        }
    }

    /// RFC 1918, link-local, CGNAT, unique-local IPv6 and loopback addresses.
    public var isPrivateOrLoopback: Bool {
        if isLoopback { return true }
        switch host {
        case let .ipv4(a, b, _, _):
            return a == 10 || (a == 172 && (16...31).contains(b)) || (a == 192 && b == 168)
                || (a == 169 && b == 254) || (a == 100 && (64...127).contains(b)) || a == 0
        case let .ipv6(high, _):
            let top16 = high >> 48
            return (top16 & 0xfe00) == 0xfc00 || (top16 & 0xffc0) == 0xfe80 || high == 0
        }
    }

    public var description: String {
        switch host {
        case let .ipv4(a, b, c, d): return "\(a).\(b).\(c).\(d):\(port)"
        case let .ipv6(high, low):
            let groups = (0..<8).map { i -> String in
                let word = i < 4 ? high >> (48 - 16 * UInt64(i)) : low >> (48 - 16 * UInt64(i - 4))
                return String(UInt16(truncatingIfNeeded: word), radix: 16)
            }
            return "[\(groups.joined(separator: ":"))]:\(port)"
        }
    }

    public static func < (a: NetAddress, b: NetAddress) -> Bool { a.description < b.description }

    private static func parseIPv4(_ s: Substring) -> Host? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var b = [UInt8]()
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = UInt8(p) else { return nil }
            b.append(v)
        }
        return .ipv4(b[0], b[1], b[2], b[3])
    }

    private static func parseIPv6(_ s: Substring) -> Host? {
        // Split at "::" (at most once), parse hex groups on each side, fill the gap with zeros.
        var halves: [String] = []
        var rest = Substring(s)
        while let r = rest.firstRange(of: "::") {
            halves.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        halves.append(String(rest))
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out = [UInt16]()
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var words: [UInt16]
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            words = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            words = head
        }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<4 { high = high << 16 | UInt64(words[i]) }
        for i in 4..<8 { low = low << 16 | UInt64(words[i]) }
        return .ipv6(high: high, low: low)
    }
}

public enum NetAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String, String)

    public var description: String {
        switch self {
        case let .malformed(text, why): return "invalid address \"\(text)\": \(why) (expected HOST:PORT or [IPv6]:PORT)"
        }
    }
}
