import ArgumentParser
import ChorusNode

/// `chorus epoch`: a running node's view of the network's epochs.
struct EpochCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epoch",
        abstract: "Show epochs as a running node sees them; export an epoch and verify an export.",
        subcommands: [EpochShowCommand.self, EpochExportCommand.self, EpochVerifyCommand.self],
        defaultSubcommand: EpochShowCommand.self
    )
}

struct EpochShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an epoch (the current one by default): stage, finality, table digest, skipped steps.",
        discussion: """
            EXAMPLES:
              chorus --data-dir devnet/node-1 epoch show
              chorus --data-dir devnet/node-1 epoch show 2 --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "The epoch number (default: the current epoch).")
    var epoch: UInt64?
    @Flag(name: .long, help: "Print JSON: epoch, stage, final, last_final_epoch, table_digest (once final), ...")
    var json = false

    func run() async throws {
        let status = try await node.call(.epoch(epoch), as: EpochStatus.self)
        if json { return try Console.printJSON(status) }
        print("epoch          \(status.epoch)\(status.stage.map { " (\($0))" } ?? "")")
        print("final          \(status.final ? "yes" : "no")\(status.lastFinalEpoch.map { "; last final epoch \($0)" } ?? "")")
        if let digest = status.tableDigest { print("table digest   \(digest)") }
        if let own = status.ownTableDigest, own != status.tableDigest { print("own table      \(own)") }
        if let signers = status.certificateSigners { print("certificate    \(signers) signatures") }
        print("statements     \(status.statements)")
        for skip in status.skipped { print("skipped        \(skip)") }
        for d in status.divergences { print("divergence     own \(d.own.prefix(16)) vs final \(d.final.prefix(16))") }
    }
}

/// `chorus weights`: the final weight table.
struct WeightsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Show the final weight table of the last final epoch (or of --epoch N).",
        discussion: """
            EXAMPLE:
              chorus --data-dir devnet/node-1 weights --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The epoch (default: the last final one).")
    var epoch: UInt64?
    @Flag(name: .long, help: "Print {epoch, table_digest, participants: [{participant, weight, voting_weight, models}], confirmations}.")
    var json = false

    func run() async throws {
        let table = try await node.call(.weights(epoch: epoch), as: WeightsResult.self)
        if json { return try Console.printJSON(table) }
        print("epoch \(table.epoch)  table \(table.tableDigest)")
        for p in table.participants {
            let models = p.models.map { "\($0.model.split(separator: "/").last ?? "")=\($0.pocWeight)\($0.accepted ? "" : " (rejected)")" }
            print("\(p.participant.prefix(16))  weight \(p.weight)  voting \(p.votingWeight)  \(models.joined(separator: " "))")
        }
        if !table.confirmations.isEmpty { print("confirmation PoC of epoch \(table.epoch - 1) (min reading / expected):") }
        for c in table.confirmations {
            print("  \(c.participant.prefix(16))  \(c.model.split(separator: "/").last ?? "")  \(c.weight)/\(c.expected)  \(c.passed ? "passed" : "FAILED (no voting weight)")")
        }
    }
}
