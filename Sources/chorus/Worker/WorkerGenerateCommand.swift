import ArgumentParser
import ChorusWorkerAPI
import ChorusWorkerHTTP

/// `chorus worker generate`: continue a prompt.
struct WorkerGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a completion for a prompt (chat template applied unless --raw).",
        discussion: """
            Sampling follows the public inference tape (Specs/inference.md §4): --seed is either a u64 \
            or the 64 hex digits of an inference seed (the tape's key); the same seed, model and \
            prompt give the same tokens on every worker. Temperature 0 is greedy and uses no tape.

            EXAMPLES:
              chorus worker generate --model smollm2-135m --prompt "What is the capital of France?"
              chorus worker generate --model smollm2-135m --prompt "Tell a story" --temperature 0.8 --seed 42
              chorus worker generate --model smollm2-135m --prompt "Hi" --temperature 1 --seed 0a1b…(64 hex) --json
              chorus worker generate --model synthetic:tiny --prompt "abc" --raw --max-tokens 8 --worker http://127.0.0.1:8700
            """)

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(help: "Model: smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH or a resident id.")
    var model: String

    @Option(help: "The prompt text (one user message).")
    var prompt: String

    @Option(help: "Most tokens to generate.")
    var maxTokens = 64

    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature = 0.0

    @Option(help: "Sampling seed (with --temperature > 0): a u64, or 64 hex digits (the tape's key).")
    var seed: String?

    @Flag(help: "Send the prompt as raw text, without the chat template.")
    var raw = false

    @Flag(help: "Print JSON: text, prompt tokens, generated tokens and their logprobs.")
    var json = false

    struct Output: Encodable {
        var text: String
        var promptTokens: [Int]
        var tokens: [Int]
        var logprobs: [Double]
        var finishReason: String
    }

    func run() async throws {
        let sampling: SamplingMessage
        switch seed {
        case nil: sampling = SamplingMessage(temperature: temperature)
        case let value? where value.count == 64 && value.allSatisfy(\.isHexDigit):
            sampling = SamplingMessage(temperature: temperature, tapeSeed: value.lowercased())
        case let value?:
            guard let number = UInt64(value) else {
                throw CLIFailure.usage("--seed \(value): give a u64 (e.g. 42) or 64 hex digits (an inference seed)")
            }
            sampling = SamplingMessage(temperature: temperature, seed: number)
        }
        let worker = try connection.connect()
        let entry = try catalogModel(model)
        try await workerCall {
            let loaded = try await entry.ensureLoaded(on: worker)
            let prompt = try await promptTokens(self.prompt, model: loaded, raw: raw, worker: worker)
            let result = try await worker.generate(GenerateRequest(
                model: loaded.id, promptTokens: prompt, maxTokens: maxTokens,
                sampling: sampling, stream: true)) { _ in true }
            let ids = result.tokens.map(\.id)
            // The stop token (EOS) ends the answer; it is not part of the text.
            let textIDs = result.finishReason == "stop" ? Array(ids.dropLast()) : ids
            let text = try await worker.detokenize(DetokenizeRequest(model: loaded.id, tokens: textIDs, skipSpecial: true)).text
            if json {
                try Console.printJSON(Output(text: text, promptTokens: prompt, tokens: ids, logprobs: result.tokens.map(\.logprob),
                                             finishReason: result.finishReason))
            } else {
                print(text)
            }
        }
    }
}
