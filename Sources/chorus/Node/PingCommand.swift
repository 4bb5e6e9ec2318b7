import ArgumentParser
import ChorusCrypto
import ChorusNode

/// `chorus ping PEER`: one ping over the session with a connected peer, named by its key or by a
/// unique prefix of it (the short keys other commands print).
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Measure the round-trip time to a connected peer over its encrypted session.",
        discussion: """
            PEER is the peer's public key or a prefix of it (at least \(minimumPrefix) hex digits) that \
            only one connected peer's key starts with; `chorus peers` lists them.
            Exit status 1 when the node has no session with the peer or it does not answer in 5 s; \
            2 when the prefix fits several connected peers.

            EXAMPLES:
              chorus --data-dir /tmp/n1 ping 3f9a0c12
              chorus --data-dir /tmp/n1 ping $(chorus --data-dir /tmp/n2 status --json | jq -r .public_key)
            """
    )

    /// Shorter prefixes would match too easily and read like typos.
    static let minimumPrefix = 8

    @OptionGroup var node: NodeOptions
    @Argument(help: ArgumentHelp("The peer's public key (64 hex digits) or a unique prefix of it (at least 8).", valueName: "peer"))
    var peerID: String
    @Flag(name: .long, help: "Print {\"public_key\": ..., \"rtt_ms\": ...}.")
    var json = false

    func validate() throws {
        guard peerID.count >= Self.minimumPrefix, peerID.count <= 64, peerID.allSatisfy(\.isHexDigit) else {
            throw ValidationError("PEER must be a public key of 64 hex digits or a prefix of one with at least \(Self.minimumPrefix), got '\(peerID)'")
        }
    }

    func run() async throws {
        let key = peerID.count == 64 ? peerID.lowercased() : try await resolvePrefix(peerID.lowercased())
        guard let peer = try? Ed25519.PublicKey(hex: key) else { throw CLIFailure.usage("PEER must be a public key of 64 hex digits, got '\(key)'") }
        let result = try await node.call(.ping(peer: peer), as: PingResult.self)
        if json { return try Console.printJSON(result) }
        print(String(format: "%@: %.3f ms", result.publicKey, result.rttMilliseconds))
    }

    /// The one connected peer whose key starts with `prefix`.
    private func resolvePrefix(_ prefix: String) async throws -> String {
        let peers = try await node.call(.peers, as: [PeerInfo].self)
        let matches = peers.filter { $0.publicKey.lowercased().hasPrefix(prefix) }
        func listed(_ peers: [PeerInfo]) -> String {
            peers.map { "\($0.publicKey) (\($0.address))" }.sorted().joined(separator: ", ")
        }
        switch matches.count {
        case 1:
            return matches[0].publicKey.lowercased()
        case 0 where peers.isEmpty:
            throw CLIFailure.failed("no connected peer's key starts with \(prefix): the node has no peers now (`chorus peers`)")
        case 0:
            throw CLIFailure.failed("no connected peer's key starts with \(prefix); connected: \(listed(peers))")
        default:
            throw CLIFailure.usage("\(prefix) is ambiguous: \(matches.count) connected peers' keys start with it: \(listed(matches)); give more digits")
        }
    }
}
