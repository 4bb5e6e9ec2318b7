import ArgumentParser
import ChorusNode
import Foundation

/// `chorus messages`: what a running node has delivered on a topic.
struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "List the messages a running node delivered on a topic (its own publications included).",
        discussion: """
            With --follow, keeps printing new messages until interrupted (with --json, one object \
            per line). Each message has its id, author, seq, data (text, or hex: prefixed), size, \
            the peer it came from and the time it arrived (unix nanoseconds).

            EXAMPLES:
              chorus --data-dir /tmp/n2 messages
              chorus --data-dir /tmp/n2 messages --topic chat --follow --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The topic (default: statements).")
    var topic: String = NodeConfiguration.defaultTopic
    @Flag(name: .long, help: "Keep printing new messages.")
    var follow = false
    @Flag(name: .long, help: "JSON: an array, or one object per line with --follow.")
    var json = false

    func run() async throws {
        var since = 0
        repeat {
            let batch = try await node.call(.messages(topic: topic, since: since, limit: ControlRequest.defaultMessagesLimit), as: [DeliveredMessage].self)
            if let last = batch.last { since = last.index + 1 }
            if json && !follow { return try Console.printJSON(batch) }
            for message in batch {
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(message), as: UTF8.self))
                } else {
                    let from = message.from.map { "from \($0.prefix(12))" } ?? "own"
                    print("\(message.id.prefix(16))  \(message.author?.prefix(12) ?? "?")  \(from)  \(message.data)")
                }
            }
            if follow { try await Task.sleep(for: .milliseconds(200)) }
        } while follow
    }
}
