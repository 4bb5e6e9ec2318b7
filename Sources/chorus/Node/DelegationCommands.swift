import ArgumentParser
import ChorusCrypto
import ChorusNode
import ChorusProtocol

/// `chorus delegate | refuse | intent`: declarations for a model this node does not serve
/// (Specs/delegation.md), signed by the running node and gossiped; effective from the next epoch.
struct DelegateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate",
        abstract: "Lend this node's voting power for MODEL to PARTICIPANT (from the next epoch).",
        discussion: """
            The running node signs a delegation statement and gossips it. The target must serve \
            the model (commit PoC for it) and hold voting weight, or the delegation counts as NONE.
            EXAMPLE:
              chorus --data-dir devnet/node-4 delegate chorus/synthetic-devnet 5f3a...e1 --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "A model id of the network file.")
    var model: String
    @Argument(help: "The participant's public key (64 hex digits).")
    var participant: String
    @Flag(name: .long, help: "Print JSON: statement_id, epoch, effective_epoch, seq, model, action, target.")
    var json = false

    func run() async throws {
        guard participant.count == 64, let target = try? Bytes32(hex: participant) else {
            throw CLIFailure.usage("PARTICIPANT must be a public key of 64 hex digits, got \"\(participant)\"")
        }
        try await Declaration.send(node: node, model: model, action: .delegate(to: target), json: json)
    }
}

struct RefuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refuse",
        abstract: "Declare that this node neither serves nor delegates MODEL (from the next epoch; costs the refusal penalty).",
        discussion: """
            EXAMPLE:
              chorus --data-dir devnet/node-4 refuse HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "A model id of the network file.")
    var model: String
    @Flag(name: .long, help: "Print JSON: statement_id, epoch, effective_epoch, seq, model, action.")
    var json = false

    func run() async throws {
        try await Declaration.send(node: node, model: model, action: .refuse, json: json)
    }
}

struct IntentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intent",
        abstract: "Declare that this node intends to serve MODEL (a bootstrap signal; NONE until it commits PoC).",
        discussion: """
            EXAMPLE:
              chorus --data-dir devnet/node-2 intent chorus/synthetic-devnet --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "A model id of the network file.")
    var model: String
    @Flag(name: .long, help: "Print JSON: statement_id, epoch, effective_epoch, seq, model, action.")
    var json = false

    func run() async throws {
        try await Declaration.send(node: node, model: model, action: .intent, json: json)
    }
}

/// The shared `declare` call of the three commands.
enum Declaration {
    static func send(node: NodeOptions, model: String, action: DelegationAction, json: Bool) async throws {
        let result = try await node.call(.declare(model: model, action: action), as: DeclareResult.self)
        if json { return try Console.printJSON(result) }
        print("\(result.action)\(result.target.map { " to \($0)" } ?? "") for \(result.model)")
        print("signed in epoch \(result.epoch) (seq \(result.seq)), effective from epoch \(result.effectiveEpoch)")
        print("statement \(result.statementID)")
    }
}
