import AsyncHTTPClient
import ChorusAdmin
import ChorusHTTP
import ChorusInference
import ChorusTestKit
import Foundation
import NIOCore
import Prometheus
import Testing
@testable import ChorusAPI

/// The API's inference metrics under vLLM's names (`InferenceMetricNames`), read from the same
/// Prometheus registry and factory the node's admin listener scrapes, after real requests through
/// the HTTP server.
@Suite struct APIMetricsTests {
    /// The registry's text exposition.
    struct ScrapeForTests {
        let body: String

        init(_ registry: PrometheusCollectorRegistry) { body = registry.emitToString() }

        /// `# TYPE` lines: family name → type.
        var families: [String: String] {
            var out: [String: String] = [:]
            for line in body.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { out[String(parts[2])] = String(parts[3]) }
            }
            return out
        }

        /// The value of one series, written as exported (name and labels); nil when absent.
        func value(_ series: String) -> Double? {
            for line in body.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " ") else { continue }
                if line[..<space] == series { return Double(line[line.index(after: space)...]) }
            }
            return nil
        }
    }

    static let model = #"{model_name="scripted"}"#

    static func withMeteredServer(_ backend: ScriptedInferenceBackendForTests,
                                  _ body: (APIServer, PrometheusCollectorRegistry) async throws -> Void) async throws {
        let factory = ChorusMetricsFactory()
        let server = try await APIServer.start(backend: backend, listen: .tcp(host: "127.0.0.1", port: 0),
                                               access: APIAccess(keys: []), metrics: factory)
        do {
            try await body(server, factory.registry)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func waitFor(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<1000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        return condition()
    }

    @Test func servedRequestsAreRecordedUnderVLLMsNamesWithTheModelName() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: ["Par", "is"], held: true)
        try await Self.withMeteredServer(backend) { server, registry in
            let url = server.url + "/v1/chat/completions"
            // Held before its first token: waiting, not running.
            async let first = APIServerTests.call(url, body: APIServerTests.chat + "}")
            #expect(try await Self.waitFor { ScrapeForTests(registry).value(InferenceMetricNames.requestsWaiting + Self.model) == 1 })
            #expect((ScrapeForTests(registry).value(InferenceMetricNames.requestsRunning + Self.model) ?? 0) == 0)
            backend.release()
            #expect(try await first.status == 200)
            // And one streamed request.
            let streamed = try await APIServerTests.call(url, body: APIServerTests.chat + #","stream":true}"#)
            #expect(streamed.body.hasSuffix("data: [DONE]\n\n"))
            // A model the backend does not list gets a 404 and no series of its own.
            let unknown = try await APIServerTests.call(url, body: #"{"model":"made-up","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(unknown.status == 404)

            let scrape = ScrapeForTests(registry)
            let families = scrape.families
            for family in InferenceMetricNames.all {
                #expect(families[family.name] == family.kind.rawValue, "\(family.name) missing or mistyped:\n\(scrape.body)")
                #expect(scrape.body.contains("# HELP \(family.name) \(family.help)"), "\(family.name) has no help text")
            }
            #expect(scrape.value(InferenceMetricNames.requestsWaiting + Self.model) == 0)
            #expect(scrape.value(InferenceMetricNames.requestsRunning + Self.model) == 0)
            #expect(scrape.value(InferenceMetricNames.timeToFirstToken + "_count" + Self.model) == 2)
            #expect(scrape.value(InferenceMetricNames.endToEndLatency + "_count" + Self.model) == 2)
            // Two pieces per request: one gap each.
            #expect(scrape.value(InferenceMetricNames.interTokenLatency + "_count" + Self.model) == 2)
            // The first request waited at the gate: its time to first token is above 0.
            #expect((scrape.value(InferenceMetricNames.timeToFirstToken + "_sum" + Self.model) ?? 0) > 0)
            #expect(scrape.value(InferenceMetricNames.promptTokens + Self.model) == 6)
            #expect(scrape.value(InferenceMetricNames.generationTokens + Self.model) == 4)
            #expect(scrape.value(#"vllm:request_success_total{model_name="scripted",finished_reason="length"}"#) == 2)
            // vLLM's buckets, not the loop-lag ones: time to first token has 22 bounds and +Inf.
            let ttftBuckets = scrape.body.split(separator: "\n").filter { $0.hasPrefix(InferenceMetricNames.timeToFirstToken + "_bucket{") }
            #expect(ttftBuckets.count == 23)
            // Only the served model's id in labels: no invented model, no address.
            #expect(!scrape.body.contains("made-up") && !scrape.body.contains("127.0.0.1"))
            try Self.promtool(scrape.body)
        }
    }

    /// A streaming client that goes away: the request ends as `abort`, and leaves the running gauge.
    @Test func aClientThatLeavesIsCountedAsAbort() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: Array(repeating: "tok ", count: 10_000), pace: .milliseconds(2))
        try await Self.withMeteredServer(backend) { server, registry in
            var request = HTTPClientRequest(url: server.url + "/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: APIServerTests.chat + #","stream":true}"#))
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let response = try await client.execute(request, timeout: .seconds(10))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
            #expect(try await Self.waitFor { ScrapeForTests(registry).value(InferenceMetricNames.requestsRunning + Self.model) == 1 })
            try await client.shutdown()
            let abort = #"vllm:request_success_total{model_name="scripted",finished_reason="abort"}"#
            #expect(try await Self.waitFor { ScrapeForTests(registry).value(abort) == 1 })
            #expect(ScrapeForTests(registry).value(InferenceMetricNames.requestsRunning + Self.model) == 0)
        }
    }

    /// A test double for a backend that fails: model `invalid` is refused as a bad request (400),
    /// model `broken` fails as a node would when no executor answers (502).
    struct FailingInferenceBackendForTests: InferenceBackend {
        func models() async throws(OpenAIError) -> [String] { ["broken", "invalid"] }

        func run(_ job: InferenceJob, limits: APILimits,
                 onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
            if job.model == "invalid" { throw .invalid("messages", "The model `invalid` has no chat template.") }
            throw OpenAIError(status: 502, message: "No executor answered.", type: "server_error")
        }
    }

    /// A failure of the node counts as `error`; a request refused as invalid was never served and
    /// counts nowhere (as in vLLM); neither stays in the waiting gauge.
    @Test func failuresCountAsErrorsButInvalidRequestsDoNot() async throws {
        let factory = ChorusMetricsFactory()
        let server = try await APIServer.start(backend: FailingInferenceBackendForTests(), listen: .tcp(host: "127.0.0.1", port: 0),
                                               access: APIAccess(keys: []), metrics: factory)
        let url = server.url + "/v1/chat/completions"
        let broken = try await APIServerTests.call(url, body: #"{"model":"broken","messages":[{"role":"user","content":"hi"}]}"#)
        let invalid = try await APIServerTests.call(url, body: #"{"model":"invalid","messages":[{"role":"user","content":"hi"}]}"#)
        await server.stop()
        #expect(broken.status == 502 && invalid.status == 400)
        let scrape = ScrapeForTests(factory.registry)
        #expect(scrape.value(#"vllm:request_success_total{model_name="broken",finished_reason="error"}"#) == 1)
        #expect(scrape.value(#"vllm:e2e_request_latency_seconds_count{model_name="broken"}"#) == 1)
        #expect(!scrape.body.contains(#"vllm:request_success_total{model_name="invalid""#))
        #expect(scrape.value(#"vllm:e2e_request_latency_seconds_count{model_name="invalid"}"#) == nil)
        for model in ["broken", "invalid"] {
            #expect(scrape.value(#"vllm:num_requests_waiting{model_name="\#(model)"}"#) == 0)
        }
    }

    /// `promtool check metrics` where it is installed (Tools/install-deps.sh): the text must parse,
    /// and the only lint it may report is the ':' in vLLM's names, which it reports on vLLM's own
    /// `/metrics` too (a recording-rule convention; the names are kept so vLLM dashboards work).
    static func promtool(_ text: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [root.appendingPathComponent(".build-promtool/usr/bin/promtool").path, "/usr/bin/promtool"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("promtool not found (Tools/install-deps.sh unpacks it): promtool check metrics skipped")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let problems = report.split(separator: "\n").filter { !$0.hasSuffix("metric names should not contain ':'") }
        #expect(problems.isEmpty, "promtool check metrics: \(report)")
        #expect([0, 3].contains(process.terminationStatus), "promtool check metrics exit \(process.terminationStatus): \(report)")
    }
}
