import ArgumentParser
import ChorusWorkerAPI
import ChorusWorkerHTTP

/// `chorus worker tokenize`: text to token ids with the model's tokenizer.
struct WorkerTokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text with the model's tokenizer (control-token strings become their ids).")

    @OptionGroup var connection: WorkerConnectionOptions

    @Option(help: "Model: smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH or a resident id.")
    var model: String

    @Option(help: "The text to tokenize.")
    var text: String

    @Flag(help: "Print {\"tokens\": [...]}.")
    var json = false

    struct Output: Encodable { var tokens: [Int] }

    func run() async throws {
        let worker = try connection.connect()
        let entry = try catalogModel(model)
        try await workerCall {
            let loaded = try await entry.ensureLoaded(on: worker)
            let tokens = try await worker.tokenize(TokenizeRequest(model: loaded.id, text: text)).tokens
            if json {
                try Console.printJSONLine(Output(tokens: tokens))
            } else {
                print(tokens.map(String.init).joined(separator: " "))
            }
        }
    }
}
