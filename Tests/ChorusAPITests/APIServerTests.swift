import AsyncHTTPClient
import ChorusHTTP
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import ChorusTestKit
import Testing
@testable import ChorusAPI
@testable import ChorusInference

@Suite struct APIServerTests {
    static func withServer(_ backend: ScriptedInferenceBackendForTests, keys: [String] = [], limits: APILimits = APILimits(),
                           _ body: (APIServer) async throws -> Void) async throws {
        let server = try await APIServer.start(backend: backend, listen: .tcp(host: "127.0.0.1", port: 0),
                                               access: APIAccess(keys: keys), limits: limits)
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func call(_ url: String, method: HTTPMethod = .POST, body: String? = nil, key: String? = nil)
        async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let data = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), response.headers, String(buffer: data))
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static let chat = #"{"model":"scripted","messages":[{"role":"user","content":"hi"}]"#

    @Test func answersAChatCompletionInOpenAIsShape() async throws {
        try await Self.withServer(ScriptedInferenceBackendForTests(pieces: ["Par", "is"], executor: "node-a")) { server in
            let r = try await Self.call(server.url + "/v1/chat/completions", body: Self.chat + "}")
            #expect(r.status == 200 && r.headers["content-type"].first == "application/json")
            let o = try Self.object(r.body)
            #expect(o["object"] as? String == "chat.completion" && o["model"] as? String == "scripted")
            #expect((o["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Paris")
            #expect(choice["finish_reason"] as? String == "length" && choice["logprobs"] is NSNull)
            let usage = try #require(o["usage"] as? [String: Int])
            #expect(usage == ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5])
            let chorus = try #require(o["chorus"] as? [String: String])
            #expect(chorus["executor"] == "node-a" && chorus["request_id"] == o["id"] as? String)
        }
    }

    @Test func streamsServerSentEventsLikeOpenAI() async throws {
        try await Self.withServer(ScriptedInferenceBackendForTests(pieces: ["a", "b"])) { server in
            let body = Self.chat + #","stream":true,"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2}"#
            let r = try await Self.call(server.url + "/v1/chat/completions", body: body)
            #expect(r.status == 200 && r.headers["content-type"].first == "text/event-stream")
            let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.allSatisfy { $0.hasPrefix("data: ") })
            #expect(events.last == "data: [DONE]")
            let chunks = try events.dropLast().map { try Self.object(String($0.dropFirst(6))) }
            #expect(chunks.count == 5) // role, "a", "b", finish, usage
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let deltas = chunks.prefix(4).map { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]) ?? [:] }
            #expect(deltas[0]["role"] as? String == "assistant")
            #expect(deltas[1]["content"] as? String == "a" && deltas[2]["content"] as? String == "b" && deltas[3].isEmpty)
            let first = try #require((chunks[1]["choices"] as? [[String: Any]])?.first)
            let content = try #require((first["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect((content.first?["top_logprobs"] as? [Any])?.count == 2)
            #expect(((chunks[3]["choices"] as? [[String: Any]])?.first?["finish_reason"]) as? String == "length")
            #expect(chunks.prefix(4).allSatisfy { $0["usage"] is NSNull })
            #expect((chunks[4]["choices"] as? [Any])?.isEmpty == true)
            #expect((chunks[4]["usage"] as? [String: Int])?["completion_tokens"] == 2)
        }
    }

    @Test func legacyCompletionsAnswerWithText() async throws {
        try await Self.withServer(ScriptedInferenceBackendForTests(pieces: ["x", "y"])) { server in
            let r = try await Self.call(server.url + "/v1/completions", body: #"{"model":"scripted","prompt":"p","logprobs":1}"#)
            let o = try Self.object(r.body)
            #expect(o["object"] as? String == "text_completion")
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "xy")
            #expect(((choice["logprobs"] as? [String: Any])?["tokens"] as? [String]) == ["x", "y"])
        }
    }

    @Test func modelsHealthAndUnknownRoutes() async throws {
        try await Self.withServer(ScriptedInferenceBackendForTests(pieces: [])) { server in
            let models = try Self.object(try await Self.call(server.url + "/v1/models", method: .GET).body)
            #expect(((models["data"] as? [[String: Any]])?.map { $0["id"] as? String }) == ["scripted"])
            #expect(try await Self.call(server.url + "/health", method: .GET).status == 200)
            let missing = try await Self.call(server.url + "/v1/embeddings", body: "{}")
            #expect(missing.status == 404 && missing.body.contains("unknown_url"))
            #expect(try await Self.call(server.url + "/v1/chat/completions", method: .GET).status == 405)
            let unknown = try await Self.call(server.url + "/v1/chat/completions",
                                              body: #"{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}"#)
            #expect(unknown.status == 404 && unknown.body.contains("model_not_found") && unknown.body.contains("scripted"))
        }
    }

    @Test func keysAreCheckedBeforeAnythingRuns() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: ["x"])
        try await Self.withServer(backend, keys: ["k1"]) { server in
            let r = try await Self.call(server.url + "/v1/chat/completions", body: Self.chat + "}")
            #expect(r.status == 401 && r.body.contains("invalid_api_key"))
            #expect(try await Self.call(server.url + "/v1/chat/completions", body: Self.chat + "}", key: "k1").status == 200)
            #expect(try await Self.call(server.url + "/health", method: .GET).status == 200)
            #expect(backend.started == 1)
        }
    }

    @Test func aBodyOverTheLimitIsRefused() async throws {
        var limits = APILimits()
        limits.maxBodyBytes = 1_024
        try await Self.withServer(ScriptedInferenceBackendForTests(pieces: ["x"]), limits: limits) { server in
            let big = #"{"model":"scripted","messages":[{"role":"user","content":""# + String(repeating: "a", count: 2_000) + "\"}]}"
            let r = try await Self.call(server.url + "/v1/chat/completions", body: big)
            #expect(r.status == 413 && r.body.contains("request_too_large"))
            #expect(try await Self.call(server.url + "/v1/chat/completions", body: Self.chat + "}").status == 200)
        }
    }

    /// Requests past `maxConcurrentRequests` get 503 at once; the held ones finish once released.
    @Test func concurrentRequestsAreBounded() async throws {
        var limits = APILimits()
        limits.maxConcurrentRequests = 2
        let backend = ScriptedInferenceBackendForTests(pieces: ["x"], held: true)
        try await Self.withServer(backend, limits: limits) { server in
            let url = server.url + "/v1/chat/completions"
            async let a = Self.call(url, body: Self.chat + "}")
            async let b = Self.call(url, body: Self.chat + #","stream":true}"#)
            while backend.started < 2 { try await Task.sleep(for: .milliseconds(5)) }
            let third = try await Self.call(url, body: Self.chat + "}")
            #expect(third.status == 503 && third.body.contains("overloaded"))
            backend.release()
            #expect(try await a.status == 200)
            #expect(try await b.body.hasSuffix("data: [DONE]\n\n"))
            #expect(try await Self.call(url, body: Self.chat + "}").status == 200)
        }
    }

    /// A streaming client that goes away stops the generation (the backend sees `onDelta` false).
    @Test func aDisconnectedStreamStopsTheGeneration() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: Array(repeating: "tok ", count: 10_000), pace: .milliseconds(2))
        try await Self.withServer(backend) { server in
            var request = HTTPClientRequest(url: server.url + "/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: Self.chat + #","stream":true}"#))
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let response = try await client.execute(request, timeout: .seconds(10))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
            try await client.shutdown()
            for _ in 0..<400 where backend.stoppedEarly == 0 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(backend.stoppedEarly == 1)
        }
    }
}
