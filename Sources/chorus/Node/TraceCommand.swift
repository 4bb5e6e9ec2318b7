import ArgumentParser
import ChorusCrypto
import ChorusNode

/// `chorus trace`: how one message reached a running node.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show every copy of a message a running node received: from which peer, when, which came first.",
        discussion: """
            EXAMPLE:
              id=$(chorus --data-dir /tmp/n1 publish --data hi)
              chorus --data-dir /tmp/n3 trace $id
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "The gossip message id (64 hex digits, as printed by `chorus publish`).")
    var messageID: String
    @Flag(name: .long, help: "Print a JSON array of {from, received_unix_ns, first}.")
    var json = false

    func run() async throws {
        guard let id = try? Bytes32(hex: messageID) else {
            throw CLIFailure.usage("MESSAGE-ID must be a gossip message id of 64 hex digits (as `chorus publish` prints it), got \"\(messageID)\"")
        }
        let receipts = try await node.call(.trace(id: id), as: [MessageReceipt].self)
        if json { return try Console.printJSON(receipts) }
        guard let first = receipts.first else { return }
        for receipt in receipts {
            let delay = Double(Int64(receipt.receivedUnixNanos) - Int64(first.receivedUnixNanos)) / 1e6
            let role = receipt.first ? "delivered" : "duplicate"
            print("\(role.padding(toLength: 9, withPad: " ", startingAt: 0))  +\(String(format: "%.3f", delay)) ms  from \(receipt.from ?? "(own publication)")")
        }
    }
}
