import ArgumentParser
import ChorusNode
import Foundation

/// `chorus publish`: the node signs a text statement and gossips it on a topic.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Have a running node sign a statement and gossip it on a topic.",
        discussion: """
            Prints the gossip message id, which `chorus trace` follows through the mesh.

            EXAMPLES:
              chorus --data-dir /tmp/n1 publish --data "hello mesh"
              chorus --data-dir /tmp/n1 publish --topic chat --in message.bin --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The topic (default: statements).")
    var topic: String = NodeConfiguration.defaultTopic
    @Option(name: .long, help: "The statement body as text.")
    var data: String?
    @Option(name: .customLong("in"), help: "Read the body from this file instead.")
    var input: String?
    @Flag(name: .long, help: "Print {\"id\", \"statement_id\", \"topic\", \"author\", \"seq\"}.")
    var json = false

    func validate() throws {
        guard (data == nil) != (input == nil) else { throw ValidationError("give exactly one of --data TEXT or --in FILE") }
    }

    func run() async throws {
        let body: [UInt8]
        if let data {
            body = Array(data.utf8)
        } else if let input {
            guard let bytes = FileManager.default.contents(atPath: input) else { throw CLIFailure.usage("cannot read \(input)") }
            body = Array(bytes)
        } else {
            body = []
        }
        let result = try await node.call(.publish(topic: topic, body: body), as: PublishResult.self)
        if json { return try Console.printJSON(result) }
        print(result.id)
    }
}
