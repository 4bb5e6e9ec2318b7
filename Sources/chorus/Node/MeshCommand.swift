import ArgumentParser
import ChorusNode

/// `chorus mesh`: a running node's gossip meshes and peer scores.
struct MeshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Show a running node's topic meshes, peer scores and gossip counters.",
        discussion: """
            EXAMPLE:
              chorus --data-dir /tmp/n1 mesh --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Flag(name: .long, help: "Print {topics: [{topic, peers}], scores: [{public_key, score}], counters}.")
    var json = false

    func run() async throws {
        let mesh = try await node.call(.mesh, as: MeshStatus.self)
        if json { return try Console.printJSON(mesh) }
        for topic in mesh.topics {
            print("topic \(topic.topic): \(topic.peers.count) mesh peers")
            for peer in topic.peers { print("  \(peer)") }
        }
        print("scores:")
        for entry in mesh.scores { print("  \(entry.publicKey.prefix(16))  \(String(format: "%.2f", entry.score))") }
        let c = mesh.counters
        print("first deliveries \(c.firstDeliveries), duplicates \(c.duplicates), invalid \(c.invalid), "
              + "grafts in backoff \(c.graftsDuringBackoff), IHAVE ignored \(c.ihaveIgnored), IWANT refused \(c.iwantRefusedOverLimit)")
    }
}
