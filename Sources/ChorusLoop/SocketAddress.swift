internal import CLibUV
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An IPv4 or IPv6 socket address (numeric IP plus port), as a plain value.
///
/// Only numeric addresses: name resolution is a separate, slow, fallible step that callers do before
/// they have a `SocketAddress`. Text forms are `"1.2.3.4:80"` and `"[::1]:80"` (brackets are required
/// for IPv6 so the port is never ambiguous); an IPv6 zone is written `"[fe80::1%2]:80"` or with an
/// interface name, `"[fe80::1%eth0]:80"`, and always printed numerically.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP version.
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// The address bytes exactly as they sit in `in_addr`/`in6_addr` (network byte order).
    enum Storage: Sendable, Hashable {
        case v4(UInt32)
        case v6(UInt64, UInt64, scopeID: UInt32)
    }

    let storage: Storage
    /// The port in host byte order.
    public let port: UInt16

    init(storage: Storage, port: UInt16) {
        self.storage = storage
        self.port = port
    }

    // MARK: - Construction

    /// Builds an address from its raw IP bytes: 4 for IPv4, 16 for IPv6. Useful when addresses arrive
    /// in binary form (peer records).
    public init(addressBytes: [UInt8], port: UInt16, scopeID: UInt32 = 0) throws(LoopError) {
        switch addressBytes.count {
        case 4:
            var raw: UInt32 = 0
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: addressBytes) }
            self.init(storage: .v4(raw), port: port)
        case 16:
            var raw: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: addressBytes) }
            self.init(storage: .v6(raw.0, raw.1, scopeID: scopeID), port: port)
        default:
            throw LoopError(
                .invalidAddress, operation: "build a socket address",
                detail: "an IP address has 4 (IPv4) or 16 (IPv6) bytes, got \(addressBytes.count)")
        }
    }

    /// Parses a numeric IP literal (`"10.0.0.1"`, `"::1"`, `"fe80::1%eth0"`) with a separate port.
    public init(host: String, port: UInt16) throws(LoopError) {
        if host.contains(":") {
            self = try Self.parseIPv6(host, port: port, input: host)
        } else {
            self = try Self.parseIPv4(host, port: port, input: host)
        }
    }

    /// Parses `"1.2.3.4:port"` or `"[v6]:port"`.
    public init(parsing text: String) throws(LoopError) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw Self.invalid(text, "an IPv6 address opened with '[' must be closed with ']'")
            }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw Self.invalid(text, "expected ':port' after ']'")
            }
            let port = try Self.parsePort(rest.dropFirst(), input: text)
            self = try Self.parseIPv6(host, port: port, input: text)
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw Self.invalid(text, "expected host:port, for example 127.0.0.1:7000 or [::1]:7000")
            }
            let host = text[..<colon]
            guard !host.contains(":") else {
                throw Self.invalid(text, "IPv6 addresses must be written in brackets, for example [::1]:7000")
            }
            let port = try Self.parsePort(text[text.index(after: colon)...], input: text)
            self = try Self.parseIPv4(String(host), port: port, input: text)
        }
    }

    /// `127.0.0.1:port`.
    public static func loopbackIPv4(port: UInt16) -> SocketAddress {
        SocketAddress(storage: .v4(UInt32(0x7F00_0001).bigEndian), port: port)
    }

    /// `[::1]:port`.
    public static func loopbackIPv6(port: UInt16) -> SocketAddress {
        SocketAddress(storage: .v6(0, UInt64(1).bigEndian, scopeID: 0), port: port)
    }

    /// `0.0.0.0:port`: every IPv4 interface.
    public static func anyIPv4(port: UInt16) -> SocketAddress {
        SocketAddress(storage: .v4(0), port: port)
    }

    /// `[::]:port`: every IPv6 interface.
    public static func anyIPv6(port: UInt16) -> SocketAddress {
        SocketAddress(storage: .v6(0, 0, scopeID: 0), port: port)
    }

    /// The same IP with another port.
    public func withPort(_ port: UInt16) -> SocketAddress {
        SocketAddress(storage: storage, port: port)
    }

    // MARK: - Inspection

    public var family: Family {
        switch storage {
        case .v4: return .ipv4
        case .v6: return .ipv6
        }
    }

    /// The IP bytes in network order (4 or 16), e.g. for grouping peers by /24 or /64.
    public var addressBytes: [UInt8] {
        switch storage {
        case let .v4(raw): return withUnsafeBytes(of: raw) { Array($0) }
        case let .v6(high, low, _): return withUnsafeBytes(of: (high, low)) { Array($0) }
        }
    }

    /// The IPv6 zone (interface index); 0 for IPv4 and for global IPv6 addresses.
    public var scopeID: UInt32 {
        if case let .v6(_, _, scope) = storage { return scope }
        return 0
    }

    /// The IP literal without the port: `"127.0.0.1"`, `"::1"`, `"fe80::1%2"`.
    public var host: String {
        var text = [CChar](repeating: 0, count: 64)
        switch storage {
        case let .v4(raw):
            _ = withUnsafeBytes(of: raw) { uv_inet_ntop(AF_INET, $0.baseAddress, &text, text.count) }
        case let .v6(high, low, _):
            _ = withUnsafeBytes(of: (high, low)) { uv_inet_ntop(AF_INET6, $0.baseAddress, &text, text.count) }
        }
        let ip = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return scopeID == 0 ? ip : "\(ip)%\(scopeID)"
    }

    public var description: String {
        family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }

    // MARK: - Parsing helpers

    private static func invalid(_ input: String, _ reason: String) -> LoopError {
        LoopError(.invalidAddress, operation: "parse socket address \"\(input)\"", detail: reason)
    }

    private static func parsePort(_ text: Substring, input: String) throws(LoopError) -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = UInt16(text)
        else {
            throw invalid(input, "the port must be a decimal number from 0 to 65535")
        }
        return value
    }

    private static func parseIPv4(_ host: String, port: UInt16, input: String) throws(LoopError) -> SocketAddress {
        var raw = in_addr()
        guard uv_inet_pton(AF_INET, host, &raw) == 0 else {
            throw invalid(input, "\"\(host)\" is not a numeric IPv4 address (names must be resolved first)")
        }
        return SocketAddress(storage: .v4(raw.s_addr), port: port)
    }

    private static func parseIPv6(_ host: String, port: UInt16, input: String) throws(LoopError) -> SocketAddress {
        var address = host
        var scope: UInt32 = 0
        if let percent = host.firstIndex(of: "%") {
            address = String(host[..<percent])
            let zone = String(host[host.index(after: percent)...])
            if let numeric = UInt32(zone) {
                scope = numeric
            } else {
                scope = if_nametoindex(zone)
                guard scope != 0 else { throw invalid(input, "unknown network interface \"\(zone)\"") }
            }
        }
        var raw = in6_addr()
        guard uv_inet_pton(AF_INET6, address, &raw) == 0 else {
            throw invalid(input, "\"\(address)\" is not a numeric IPv6 address")
        }
        let halves = withUnsafeBytes(of: &raw) { $0.loadUnaligned(as: (UInt64, UInt64).self) }
        return SocketAddress(storage: .v6(halves.0, halves.1, scopeID: scope), port: port)
    }
}

// MARK: - Conversion to and from sockaddr (internal)

extension SocketAddress {
    /// Lends a `sockaddr` for this address to `body` (valid only inside it).
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
        switch storage {
        case let .v4(raw):
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = raw
            return withUnsafePointer(to: &sa) { body(cuv_sockaddr($0)) }
        case let .v6(high, low, scope):
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sa.sin6_addr) { target in
                withUnsafeBytes(of: (high, low)) { target.copyMemory(from: $0) }
            }
            sa.sin6_scope_id = scope
            return withUnsafePointer(to: &sa) { body(cuv_sockaddr($0)) }
        }
    }

    /// Reads an address that the kernel wrote into `sockaddr_storage`; nil for non-IP families.
    init?(_ storage: sockaddr_storage) {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sa = withUnsafeBytes(of: &copy) { $0.loadUnaligned(as: sockaddr_in.self) }
            self.init(storage: .v4(sa.sin_addr.s_addr), port: UInt16(bigEndian: sa.sin_port))
        case AF_INET6:
            let sa = withUnsafeBytes(of: &copy) { $0.loadUnaligned(as: sockaddr_in6.self) }
            let halves = withUnsafeBytes(of: sa.sin6_addr) { $0.loadUnaligned(as: (UInt64, UInt64).self) }
            self.init(
                storage: .v6(halves.0, halves.1, scopeID: sa.sin6_scope_id), port: UInt16(bigEndian: sa.sin6_port))
        default:
            return nil
        }
    }
}
