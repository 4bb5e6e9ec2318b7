import ArgumentParser
import ChorusWorkerAPI
import ChorusWorkerHTTP

/// `chorus worker score`: teacher-forced log-probabilities of a completion.
struct WorkerScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a completion under a prompt: each completion token's logprob and the top alternatives.",
        discussion: """
            The completion is run teacher-forced (one forward pass over prompt and completion), as a \
            validator re-runs an executor's output. Each line shows a completion token (id and \
            text), its logprob, then the top alternatives (id, text, logprob).

            EXAMPLES:
              chorus worker score --model smollm2-135m --prompt "What is the capital of France?" --completion "Paris."
              chorus worker score --model smollm2-135m --prompt "2+2=" --completion "4" --raw --top-logprobs 3 --json
            """)

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(help: "Model: smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH or a resident id.")
    var model: String

    @Option(help: "The prompt text (one user message, chat template applied unless --raw).")
    var prompt: String

    @Option(help: "The completion text to score.")
    var completion: String

    @Option(help: "Alternatives per position (0 ... 20).")
    var topLogprobs = 5

    @Flag(help: "Send the prompt as raw text, without the chat template.")
    var raw = false

    @Flag(help: "Print JSON: {\"prompt_tokens\", \"tokens\", \"logprobs\", \"top\": [[[id, logprob], ...], ...]}.")
    var json = false

    struct Output: Encodable {
        var promptTokens: [Int]
        var tokens: [Int]
        var logprobs: [Double]
        var top: [[TopEntry]]
    }

    func run() async throws {
        let worker = try connection.connect()
        let entry = try catalogModel(model)
        try await workerCall {
            let loaded = try await entry.ensureLoaded(on: worker)
            let prompt = try await promptTokens(self.prompt, model: loaded, raw: raw, worker: worker)
            let completion = try await worker.tokenize(TokenizeRequest(model: loaded.id, text: self.completion, parseSpecial: false)).tokens
            let scored = try await worker.score(ScoreRequestMessage(model: loaded.id, promptTokens: prompt, completionTokens: completion,
                                                                    topLogprobs: topLogprobs))
            let output = Output(promptTokens: prompt, tokens: scored.tokens.map(\.id), logprobs: scored.tokens.map(\.logprob),
                                top: scored.tokens.map(\.top))
            if json {
                try Console.printJSONLine(output)
            } else {
                // Ids alone say nothing to a reader: each id is shown with its text (quoted, escapes
                // visible), looked up once per distinct id.
                var texts: [Int: String] = [:]
                for id in scored.tokens.flatMap({ [$0.id] + $0.top.map(\.id) }) where texts[id] == nil {
                    texts[id] = try await worker.detokenize(DetokenizeRequest(model: loaded.id, tokens: [id], skipSpecial: false)).text
                }
                func shown(_ id: Int) -> String { "\(id) \(String(reflecting: texts[id] ?? ""))" }
                for t in scored.tokens {
                    let alternatives = t.top.map { "\(shown($0.id)) \(String(format: "%.3f", $0.logprob))" }.joined(separator: ", ")
                    print("\(shown(t.id))\t\(String(format: "%.4f", t.logprob))\t\(alternatives)")
                }
            }
        }
    }
}
