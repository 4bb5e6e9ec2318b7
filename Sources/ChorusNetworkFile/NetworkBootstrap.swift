/// How a node finds the network and which peer addresses it may file, from the network file's
/// top-level `seeds` and `allow_private_addresses` (Specs/network-file.md). Not part of the
/// parameter digest: nodes need not agree on it, and seeds can change without a new network.
public struct NetworkBootstrap: Sendable, Equatable {
    /// `host:port` addresses every node of the network may dial at start (besides `--seed`).
    public var seeds: [String]
    /// Whether peer records advertising private or loopback addresses are accepted: true on
    /// devnets and labs, false (the default) on public networks, where such addresses are
    /// unreachable at best and aim peers at someone's LAN at worst.
    public var allowPrivateAddresses: Bool

    public init(seeds: [String] = [], allowPrivateAddresses: Bool = false) {
        self.seeds = seeds
        self.allowPrivateAddresses = allowPrivateAddresses
    }

    /// A shape check: `a.b.c.d:port` or `[v6]:port` with a port of 1-65535 (names are not
    /// resolved; the node parses the address fully when it dials).
    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return false }
        let host = text[..<colon]
        if host.hasPrefix("[") {
            return host.hasSuffix("]") && host.count > 2 && host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" }
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }
}
