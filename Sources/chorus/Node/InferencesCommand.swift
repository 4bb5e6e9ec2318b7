import ArgumentParser
import ChorusNode

/// `chorus inferences`: the inference receipts a running node recorded as executor or gateway.
struct InferencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inferences",
        abstract: "Show the inferences this node served, routed or checked: receipts, newest first.",
        discussion: """
            Each line is one receipt (Specs/inference.md §5): its id, the node's role (executor, \
            gateway, both, or validator), the model, the ticket's epoch, the executor, prompt and \
            output tokens, the finish reason, time to first token and total time; a validator's \
            line ends with its re-run: flips of positions and the verdict (§7). A gateway checked \
            every receipt it lists before the last byte reached its user; a receipt that failed \
            that check is not kept (`chorus status` counts them).

            EXAMPLES:
              chorus --data-dir devnet/node-1 inferences
              chorus --data-dir devnet/node-4 inferences --epoch 5 --limit 20 --json
            """
    )

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "Only the inferences whose ticket names this epoch.")
    var epoch: UInt64?
    @Option(name: .long, help: "At most this many (1-\(ControlRequest.maxInferencesLimit)).")
    var limit = ControlRequest.defaultInferencesLimit
    @Flag(name: .long, help: "Print {records: [{receipt_id, request_id, roles, check: {positions, flips, out_of_set, verdict, duration_ms}, model, epoch, gateway, executor, prompt_tokens, output_tokens, finish, seed, first_token_ms, total_ms, recorded_at_ms}], recording}.")
    var json = false

    func validate() throws {
        guard (1...ControlRequest.maxInferencesLimit).contains(limit) else {
            throw ValidationError("--limit must be 1...\(ControlRequest.maxInferencesLimit)")
        }
    }

    func run() async throws {
        let result = try await node.call(.inferences(epoch: epoch, limit: limit), as: InferencesResult.self)
        if json { return try Console.printJSON(result) }
        guard result.recording else { return print("this node keeps no inference records (it runs without a store)") }
        guard !result.records.isEmpty else {
            return print(epoch.map { "no inferences with tickets of epoch \($0)" } ?? "no inferences yet")
        }
        print("receipt       role       model                     epoch  executor      prompt  output  finish     ttft ms  total ms")
        for r in result.records {
            let role = r.roles == ["executor", "gateway"] ? "both" : r.roles.joined(separator: "+")
            let model = String((r.model.split(separator: "/").last ?? "").prefix(25))
            print("\(r.receiptID.prefix(12))  \(role.padding(toLength: 9, withPad: " ", startingAt: 0))  "
                  + "\(model.padding(toLength: 25, withPad: " ", startingAt: 0)) \(String(r.epoch).leftPadded(5))  \(r.executor.prefix(12))  "
                  + "\(String(r.promptTokens).leftPadded(6))  \(String(r.outputTokens).leftPadded(6))  "
                  + "\(r.finish.padding(toLength: 9, withPad: " ", startingAt: 0))  \(String(r.firstTokenMs).leftPadded(7))  \(String(r.totalMs).leftPadded(8))"
                  + (r.check.map { "  check: \($0.verdict), \($0.flips)/\($0.positions) flips" } ?? ""))
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
