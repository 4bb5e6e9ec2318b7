import ArgumentParser
import ChorusNode

/// `chorus peers`: the node's established sessions.
struct PeersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "List a running node's connected peers: key, address, direction, RTT.",
        discussion: """
            EXAMPLES:
              chorus --data-dir /tmp/n1 peers
              chorus --data-dir /tmp/n1 peers --json | jq '.[].public_key'
            """
    )

    @OptionGroup var node: NodeOptions
    @Flag(name: .long, help: "Print a JSON array: public_key, address, direction, rtt_ms, byte and message counts.")
    var json = false

    func run() async throws {
        let peers = try await node.call(.peers, as: [PeerInfo].self)
        if json { return try Console.printJSON(peers) }
        guard !peers.isEmpty else { return print("no peers") }
        for peer in peers {
            let rtt = peer.rttMilliseconds.map { String(format: "%.2f ms", $0) } ?? "-"
            print("\(peer.publicKey)  \(peer.direction.padding(toLength: 8, withPad: " ", startingAt: 0)) \(peer.address)  rtt \(rtt)")
        }
    }
}
