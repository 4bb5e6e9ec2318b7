import ArgumentParser
import ChorusCompute
import ChorusWorkerAPI
import ChorusWorkerHTTP
import Foundation

/// `--worker URL` / `--token`: which worker a command talks to. Without `--worker` the built-in
/// CPU worker runs inside this process.
struct WorkerConnectionOptions: ParsableArguments {
    @Option(name: .customLong("worker"), help: "URL of an HTTP worker (http://HOST:PORT); default: the built-in worker in-process.")
    var url: String?

    @Option(help: "Bearer token for the HTTP worker (default: $CHORUS_WORKER_TOKEN, else --token-file).")
    var token: String?

    @Option(help: "File holding the HTTP worker's bearer token (what `worker serve --token-file` wrote).")
    var tokenFile: String?

    @Option(help: "Seconds to wait for the HTTP worker's answer (a refused connection is retried until then).")
    var timeout: Double = 30

    func connect() throws(CLIFailure) -> any WorkerAPI {
        guard let url else { return WorkerService() }
        let token: String?
        do { token = try WorkerToken.resolve(token: self.token, file: tokenFile, createFile: false) } catch {
            throw .failed("\(error)")
        }
        var timeouts = WorkerHTTPClient.Timeouts()
        timeouts.request = timeout
        timeouts.streamIdle = timeout
        timeouts.load = max(timeout, 60)
        return WorkerHTTPClient(baseURL: url, token: token, timeouts: timeouts)
    }
}

/// Runs a worker call, turning protocol and transport errors into one-line CLI failures.
func workerCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as WorkerError {
        throw CLIFailure.failed("worker: \(error)")
    } catch let error as WorkerClientError {
        throw CLIFailure.failed("\(error)")
    } catch let error as WorkerModelCatalog.Failure {
        throw CLIFailure.failed("\(error)")
    }
}

/// A `--model` name from the catalog; a malformed name is a usage error (exit 2).
func catalogModel(_ name: String) throws(CLIFailure) -> WorkerModelCatalog {
    do {
        return try WorkerModelCatalog.resolve(name)
    } catch let failure {
        switch failure {
        case .unknownName: throw .usage("\(failure)")
        case .missingFile, .notResident: throw .failed("\(failure)")
        }
    }
}

extension Console {
    /// One compact JSON object per line (snake_case keys, sorted), for streams of records.
    static func printJSONLine(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Tokenizes a prompt: rendered as one user message with the model's chat template, or as raw
/// text when `raw` is set or the model has no template.
func promptTokens(_ text: String, model: ModelMessage, raw: Bool, worker: any WorkerAPI) async throws -> [Int] {
    if raw || !model.chatTemplate {
        return try await worker.tokenize(TokenizeRequest(model: model.id, text: text)).tokens
    }
    return try await worker.tokenize(TokenizeRequest(model: model.id, messages: [ChatMessage(role: "user", content: text)],
                                                     addGenerationPrompt: true)).tokens
}
