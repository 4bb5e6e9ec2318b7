import ArgumentParser
import ChorusNode

/// `chorus votes`: the PoC votes of an epoch as a running node holds them.
struct VotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "votes",
        abstract: "Show the PoC votes of the current epoch (or of --epoch N) and this node's own checks.",
        discussion: """
            Each vote names its validator, the participant it judged, the verdict, and the sampled \
            leaves that mismatched. Below them, this node's own validations: proofs that verified, \
            mismatches, and how long fetching and recomputing took.

            EXAMPLES:
              chorus --data-dir devnet/node-1 votes
              chorus --data-dir devnet/node-1 votes --epoch 3 --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The epoch (default: the current one).")
    var epoch: UInt64?
    @Flag(name: .long, help: "Print {epoch, votes: [{validator, participant, model, commit, count, verdict, samples, mismatches, own}], validations: [...]}.")
    var json = false

    func run() async throws {
        let result = try await node.call(.votes(epoch: epoch), as: VotesResult.self)
        if json { return try Console.printJSON(result) }
        print("epoch \(result.epoch): \(result.votes.count) votes")
        for v in result.votes {
            print("\(v.validator.prefix(12)) -> \(v.participant.prefix(12))  \(v.model.split(separator: "/").last ?? "")  \(v.verdict)  \(v.mismatches)/\(v.samples) mismatched  count \(v.count)\(v.own ? "  (own)" : "")")
        }
        if !result.validations.isEmpty { print("own checks:") }
        for c in result.validations {
            print("  \(c.participant.prefix(12))  \(c.proofsVerified)/\(c.samples) proofs  \(c.mismatches) mismatches  \(Int(c.durationMs)) ms  \(c.outcome)")
        }
    }
}
