import ArgumentParser
import AsyncHTTPClient
import ChorusNode
import Foundation
import NIOCore

/// `chorus infer`: one chat completion through a node's OpenAI-compatible API (README
/// "OpenAI-compatible API"), the way any `openai` client would send it, so an operator can check
/// that the node serves and routes without writing a client.
struct InferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Ask a node's OpenAI-compatible API one question (POST /v1/chat/completions).",
        discussion: """
            The API is found from --api URL, else the node's api_listen (config.toml in --data-dir). \
            The request is routed like any other: the answer names the executor that ran it.

            EXAMPLES:
              chorus infer --data-dir devnet/node-1 --model HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1 --prompt "What is the capital of France?"
              chorus infer --api http://127.0.0.1:8701 --model M --prompt "Tell a story" --stream --max-tokens 64
              CHORUS_API_KEY=k chorus infer --api http://10.0.0.5:8700 --model M --prompt hi --json
            """
    )

    @Option(name: .long, help: "The node's data directory (its config.toml names api_listen).")
    var dataDir: String?

    @Option(name: .long, help: "The API's base URL, e.g. http://127.0.0.1:8701 (instead of --data-dir).")
    var api: String?

    @Option(name: .long, help: "The model id (GET /v1/models lists them).")
    var model: String

    @Option(name: .long, help: "The user message.")
    var prompt: String

    @Option(name: .long, help: "Tokens to generate at most.")
    var maxTokens = 128

    @Option(name: .long, help: "Sampling temperature (0: greedy).")
    var temperature = 0.0

    @Flag(name: .long, help: "Print the answer as it is generated (Server-Sent Events).")
    var stream = false

    @Flag(name: .long, help: "Print the API's JSON response instead of the text.")
    var json = false

    func run() async throws {
        let base = try resolveBase()
        var body: [String: Any] = ["model": model, "messages": [["role": "user", "content": prompt]],
                                   "max_tokens": maxTokens, "temperature": temperature]
        if stream && !json { body["stream"] = true; body["stream_options"] = ["include_usage": true] }
        var request = HTTPClientRequest(url: base + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = ProcessInfo.processInfo.environment["CHORUS_API_KEY"] { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        // The shared client keeps retrying a refused connection for its 90 s connect timeout.
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(600))))
        do {
            try await exchange(request, on: client, base: base)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()
    }

    private func exchange(_ request: HTTPClientRequest, on client: HTTPClient, base: String) async throws {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(600))
        } catch {
            throw CLIFailure.failed("cannot reach the API at \(base): \(error); is the node running with --api-listen?", code: "unreachable")
        }
        guard response.status == .ok else {
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            let message = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                .flatMap { $0["error"] as? [String: Any] }.flatMap { $0["message"] as? String } ?? text
            throw CLIFailure.failed("the API answered \(response.status.code): \(message)", code: "api_error")
        }
        if stream && !json { return try await printStream(response) }
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let choice = (object?["choices"] as? [[String: Any]])?.first
        print((choice?["message"] as? [String: Any])?["content"] as? String ?? "")
        printFooter(object)
    }

    private func resolveBase() throws -> String {
        if let api { return api.hasSuffix("/") ? String(api.dropLast()) : api }
        guard let dataDir else { throw CLIFailure.usage("give --api URL or --data-dir DIR (a node started with --api-listen or api_listen)") }
        let configuration: NodeConfiguration
        do { configuration = try ConfigFile.load(DataDirectory(dataDir).configFile) } catch {
            throw CLIFailure.failed("\(error)", code: "config")
        }
        guard let listen = configuration.apiListen else {
            throw CLIFailure.failed("\(dataDir)/config.toml has no api_listen: give --api URL (the devnet's node i serves http://127.0.0.1:870i)",
                                    code: "no_api")
        }
        return "http://" + listen
    }

    /// Prints each `delta.content` as it arrives; the usage chunk and `chorus` field go in the footer.
    private func printStream(_ response: HTTPClientResponse) async throws {
        var pending = ""
        var last: [String: Any]?
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let end = pending.range(of: "\n\n") {
                let event = String(pending[..<end.lowerBound])
                pending.removeSubrange(..<end.upperBound)
                guard event.hasPrefix("data: ") else { continue }
                let payload = event.dropFirst(6)
                if payload == "[DONE]" { continue }
                guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { continue }
                if let error = object["error"] as? [String: Any] {
                    print()
                    throw CLIFailure.failed("the stream ended with an error: \(error["message"] as? String ?? "unknown")", code: "api_error")
                }
                let delta = ((object["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
                if let delta {
                    FileHandle.standardOutput.write(Data(delta.utf8))
                }
                if object["chorus"] != nil { last = (last ?? [:]).merging(object) { _, new in new } }
            }
        }
        print()
        printFooter(last)
    }

    private func printFooter(_ object: [String: Any]?) {
        let usage = object?["usage"] as? [String: Any]
        let executor = (object?["chorus"] as? [String: Any])?["executor"] as? String
        var parts: [String] = []
        if let executor { parts.append("executor \(executor.prefix(12))") }
        if let usage, let p = usage["prompt_tokens"], let c = usage["completion_tokens"] { parts.append("\(p) prompt + \(c) completion tokens") }
        if !parts.isEmpty { FileHandle.standardError.write(Data("(\(parts.joined(separator: ", ")))\n".utf8)) }
    }
}
