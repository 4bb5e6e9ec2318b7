import ArgumentParser
import ChorusCrypto
import ChorusNode

/// `chorus ping PEER_ID`: one ping over the session with a connected peer.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Measure the round-trip time to a connected peer over its encrypted session.",
        discussion: """
            Exit status 1 when the node has no session with the peer or it does not answer in 5 s.

            EXAMPLE:
              chorus --data-dir /tmp/n1 ping $(chorus --data-dir /tmp/n2 status --json | jq -r .public_key)
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "The peer's public key (64 hex digits).")
    var peerID: String
    @Flag(name: .long, help: "Print {\"public_key\": ..., \"rtt_ms\": ...}.")
    var json = false

    func validate() throws {
        guard (try? Ed25519.PublicKey(hex: peerID)) != nil else {
            throw ValidationError("PEER_ID must be a public key of 64 hex digits")
        }
    }

    func run() async throws {
        let result = try await node.call("ping", params: ["peer": peerID.lowercased()], as: PingResult.self)
        if json { return try Console.printJSON(result) }
        print(String(format: "%@: %.3f ms", result.publicKey, result.rttMilliseconds))
    }
}
