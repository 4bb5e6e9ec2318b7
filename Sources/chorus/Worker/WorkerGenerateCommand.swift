import ArgumentParser
import ChorusWorkerAPI
import ChorusWorkerHTTP

/// `chorus worker generate`: continue a prompt.
struct WorkerGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a completion for a prompt (chat template applied unless --raw).")

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(help: "Model: smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH or a resident id.")
    var model: String

    @Option(help: "The prompt text (one user message).")
    var prompt: String

    @Option(help: "Most tokens to generate.")
    var maxTokens = 64

    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature = 0.0

    @Option(help: "Sampling seed (with --temperature > 0).")
    var seed: UInt64?

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
        let worker = try connection.connect()
        let entry = try catalogModel(model)
        try await workerCall {
            let loaded = try await entry.ensureLoaded(on: worker)
            let prompt = try await promptTokens(self.prompt, model: loaded, raw: raw, worker: worker)
            let result = try await worker.generate(GenerateRequest(
                model: loaded.id, promptTokens: prompt, maxTokens: maxTokens,
                sampling: SamplingMessage(temperature: temperature, seed: seed), stream: true)) { _ in true }
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
