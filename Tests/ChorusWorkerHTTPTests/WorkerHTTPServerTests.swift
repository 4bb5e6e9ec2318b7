import AsyncHTTPClient
import ChorusCompute
import ChorusCrypto
import ChorusWorkerAPI
import ChorusWorkerHTTP
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The Swift worker over HTTP: the same answers as in-process, protocol errors with fields.
@Suite struct WorkerHTTPServerTests {
    static let seedHex = String(repeating: "c0ffee00", count: 8)
    static let participantHex = (0x20..<0x40).map { String(format: "%02x", $0) }.joined()

    /// A served worker with synthetic `tiny` loaded through the client.
    static func withServer(token: String = "test-token", modelDirectory: String? = nil,
                           _ body: (WorkerHTTPServer, WorkerHTTPClient) async throws -> Void) async throws {
        let server = try await WorkerHTTPServer.start(worker: WorkerService(), listen: .tcp(host: "127.0.0.1", port: 0),
                                                      access: WorkerAccess(token: token, modelDirectory: modelDirectory))
        let client = WorkerHTTPClient(baseURL: server.url, token: token)
        do {
            _ = try await client.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny", synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))
            try await body(server, client)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// A raw request, for what the typed client never sends.
    static func raw(_ url: String, method: HTTPMethod = .POST, body: String? = nil, token: String? = "test-token",
                    headers: [(String, String)] = []) async throws -> (status: Int, headers: [(String, String)], body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let data = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.map { ($0.name, $0.value) }, String(buffer: data))
    }

    static func errorObject(_ text: String) throws -> [String: String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let error = try #require(object["error"] as? [String: Any])
        return error.compactMapValues { $0 as? String }
    }

    @Test func servesTheSameAnswersAsInProcess() async throws {
        try await Self.withServer { server, client in
            #expect(server.url.hasPrefix("http://127.0.0.1:"))
            let info = try await client.info()
            #expect(info.protocol == 1 && info.models.map(\.id) == ["chorus/synthetic-tiny"])
            #expect(try await client.state().state == "idle")

            let local = WorkerService()
            _ = try await local.loadModel(LoadModelRequest(id: "chorus/synthetic-tiny", synthetic: .init(preset: "tiny", seed: SyntheticModel.devnetSeed.hex)))

            let request = GenerateRequest(model: "chorus/synthetic-tiny", promptTokens: [104, 105], maxTokens: 5, topLogprobs: 2)
            let lines = Mutex(0)
            let remote = try await client.generate(request) { _ in lines.withLock { $0 += 1 }; return true }
            let inProcess = try await local.generate(request) { _ in true }
            #expect(remote == inProcess)
            #expect(lines.withLock { $0 } == 5)
            let cancelled = try await client.generate(request) { _ in false }
            #expect(cancelled.finishReason == "cancelled" && cancelled.tokens.count == 1)
            // The server notices the closed stream at its next write and ends the generation.
            var serving = try await client.state().activities.serving
            for _ in 0..<100 where serving > 0 {
                try await Task.sleep(for: .milliseconds(50))
                serving = try await client.state().activities.serving
            }
            #expect(serving == 0)

            let score = ScoreRequestMessage(model: "chorus/synthetic-tiny", promptTokens: [104], completionTokens: [105, 33], topLogprobs: 3)
            #expect(try await client.score(score) == (try await local.score(score)))
            let verify = VerifyRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex,
                                       params: .init(seqLen: 16), nonces: [0, UInt64.max])
            let remoteVerify = try await client.verify(verify)
            #expect(remoteVerify == (try await local.verify(verify)))
            #expect(remoteVerify.artifacts[1].nonce == UInt64.max)
            #expect(try await client.tokenize(TokenizeRequest(model: "chorus/synthetic-tiny", text: "ok")).tokens == [111, 107])

            let job = try await client.startJob(PoCJobRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex,
                                                              params: .init(seqLen: 16), nonceOffset: 0, nonceStride: 1, nonceCount: 4, batchSize: 4))
            let pull = try await client.artifacts(job: job.id, after: 0, waitMs: 5_000, maxBatches: nil)
            let vectors = pull.batches.flatMap(\.artifacts)
            let expected = try await local.verify(VerifyRequest(model: "chorus/synthetic-tiny", seed: Self.seedHex, participant: Self.participantHex,
                                                                params: .init(seqLen: 16), nonces: [0, 1, 2, 3]))
            #expect(vectors == expected.artifacts)
            #expect(try await client.deleteJob(job.id).deleted == job.id)
            #expect(try await client.unloadModel("chorus/synthetic-tiny").unloaded == "chorus/synthetic-tiny")
        }
    }

    @Test func protocolErrorsNameTheField() async throws {
        try await Self.withServer { server, client in
            let base = server.url
            var r = try await Self.raw(base + "/v1/poc/verify", body: "{\"model\": \"chorus/synthetic-tiny\", \"seed\": \"\(Self.seedHex)\", \"participant\": \"\(Self.participantHex)\", \"params\": {\"seq_len\": \"eight\"}, \"nonces\": [1]}")
            #expect(r.status == 400)
            #expect(try Self.errorObject(r.body) == ["code": "invalid_request", "message": "expected an integer", "field": "params.seq_len"])
            r = try await Self.raw(base + "/v1/score", body: "{\"model\": \"chorus/synthetic-tiny\", \"prompt_tokens\": [1]}")
            #expect(try Self.errorObject(r.body)["field"] == "completion_tokens")
            r = try await Self.raw(base + "/v1/generate", body: "{\"model\": \"chorus/synthetic-tiny\", \"prompt_tokens\": [1, \"x\"]}")
            #expect(try Self.errorObject(r.body)["field"] == "prompt_tokens[1]")
            r = try await Self.raw(base + "/v1/generate", body: "{not json")
            #expect(r.status == 400)
            #expect(try Self.errorObject(r.body)["code"] == "invalid_json")
            r = try await Self.raw(base + "/v1/nothing", method: .GET)
            #expect(r.status == 404)
            #expect(try Self.errorObject(r.body)["code"] == "not_found")
            r = try await Self.raw(base + "/v1/generate", method: .GET)
            #expect(r.status == 405)
            #expect(r.headers.contains { $0.0.lowercased() == "allow" && $0.1 == "POST" })
            r = try await Self.raw(base + "/v1/poc/jobs/job-9-none/artifacts?after=x", method: .GET)
            #expect(r.status == 400)
            #expect(try Self.errorObject(r.body)["field"] == "after")
            do {
                _ = try await client.job("job-9-none")
                Issue.record("expected unknown_job")
            } catch let WorkerClientError.refused(error) {
                #expect(error.code == "unknown_job" && error.status == 404)
            }
        }
    }

    @Test func loadsSyntheticConfigurationsAndRefusesUnknownKeys() async throws {
        try await Self.withServer { server, client in
            let config = "{\"hidden_size\": 32, \"layer_count\": 1, \"head_count\": 2, \"kv_head_count\": 1, \"feed_forward_size\": 64, \"vocab_size\": 256, \"context_length\": 64"
            var r = try await Self.raw(server.url + "/v1/models/load",
                                       body: "{\"id\": \"small\", \"synthetic\": {\"seed\": \"\(SyntheticModel.devnetSeed.hex)\", \"config\": \(config), \"layers\": 3}}}")
            #expect(r.status == 400)
            #expect(try Self.errorObject(r.body)["field"] == "synthetic.config.layers", "\(r.body)")
            r = try await Self.raw(server.url + "/v1/models/load",
                                   body: "{\"id\": \"small\", \"synthetic\": {\"seed\": \"\(SyntheticModel.devnetSeed.hex)\", \"config\": \(config)}}}")
            #expect(r.status == 200, "\(r.body)")
            let model = try await client.info().models.first { $0.id == "small" }
            #expect(model?.config.headDim == 16 && model?.digest.hasPrefix("blake2b:") == true)
            // Job statuses spell absent values as null.
            let job = try await Self.raw(server.url + "/v1/poc/jobs",
                                         body: "{\"model\": \"small\", \"seed\": \"\(Self.seedHex)\", \"participant\": \"\(Self.participantHex)\", \"params\": {\"seq_len\": 2}, \"nonce_count\": 1}")
            #expect(job.status == 201)
            #expect(job.body.contains("\"nonce_count\":1") && job.body.contains("\"error\":null"))
            #expect(job.headers.contains { $0.0.lowercased() == "location" && $0.1.hasPrefix("/v1/poc/jobs/job-") })
        }
    }

    @Test func servesOnAUnixSocket() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-worker-\(UUID().uuidString.prefix(8)).sock").path
        let server = try await WorkerHTTPServer.start(worker: WorkerService(), listen: .unix(path: path), access: WorkerAccess())
        #expect(server.url.hasPrefix("http+unix://"))
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let state = try await WorkerHTTPClient(baseURL: server.url).state()
        #expect(state.state == "idle")
        await server.stop()
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func aTokenIsRequiredWhenConfigured() async throws {
        try await Self.withServer(token: "s3cret") { server, client in
            #expect(try await client.state().models == ["chorus/synthetic-tiny"])
            let r = try await Self.raw(server.url + "/v1/state", method: .GET, token: nil)
            #expect(r.status == 401)
            #expect(try Self.errorObject(r.body)["code"] == "unauthorized")
            let wrong = WorkerHTTPClient(baseURL: server.url, token: "guess")
            do {
                _ = try await wrong.state()
                Issue.record("expected unauthorized")
            } catch let WorkerClientError.refused(error) {
                #expect(error.code == "unauthorized")
            }
        }
        // Loopback is not authentication: any TCP listener needs a token.
        for host in ["0.0.0.0", "127.0.0.1", "::1"] {
            await #expect(throws: WorkerHTTPServer.StartError.self) {
                _ = try await WorkerHTTPServer.start(worker: WorkerService(), listen: .tcp(host: host, port: 0), access: WorkerAccess())
            }
        }
    }

    /// The attack: `POST /v1/models/load {"path": "/etc/shadow"}` opened the file for anyone and echoed
    /// its first bytes. Now a client reaches only the model directory, and an outside path is refused
    /// the same way whether it exists or not.
    @Test func clientsLoadFilesOnlyFromTheModelDirectory() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-models-\(UUID().uuidString.prefix(8))").path
        let models = root + "/models"
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let secret = root + "/secret.txt"
        try Data("SECRETBYTES".utf8).write(to: URL(fileURLWithPath: secret))
        try Data("not a gguf".utf8).write(to: URL(fileURLWithPath: models + "/junk.gguf"))
        try FileManager.default.createSymbolicLink(atPath: models + "/escape.gguf", withDestinationPath: secret)
        try await Self.withServer(modelDirectory: models) { server, _ in
            func load(_ path: String) async throws -> (status: Int, body: String) {
                let r = try await Self.raw(server.url + "/v1/models/load", body: "{\"id\": \"x\", \"path\": \"\(path)\"}")
                return (r.status, r.body)
            }
            for outside in ["/etc/shadow", "/etc/does-not-exist", secret, models + "/../secret.txt", "../secret.txt",
                            models + "/escape.gguf", "escape.gguf"] {
                let r = try await load(outside)
                #expect(r.status == 403, "\(outside): \(r.body)")
                #expect(try Self.errorObject(r.body)["code"] == "path_not_allowed")
                #expect(!r.body.contains("SECRET") && !r.body.contains("root:"))
            }
            // Inside the directory the worker reads the file (and says why it is no model).
            let junk = try await load("junk.gguf")
            #expect(junk.status == 422, "\(junk.body)")
            #expect(try await load(models + "/./junk.gguf").status == 422)
            #expect(try await load("missing.gguf").status == 404)
        }
        // Without a model directory no client may load any file.
        try await Self.withServer { server, _ in
            let r = try await Self.raw(server.url + "/v1/models/load", body: "{\"id\": \"x\", \"path\": \"\(secret)\"}")
            #expect(r.status == 403)
        }
    }

    /// Synthetic sizes of 2^30 overflowed the parameter count and crashed the worker.
    @Test func hugeSyntheticShapesAreRefusedNotCrashing() async throws {
        try await Self.withServer { server, _ in
            let big = 1 << 30
            for config in [
                "\"hidden_size\": \(big), \"layer_count\": \(big), \"head_count\": \(big), \"kv_head_count\": \(big), \"feed_forward_size\": \(big), \"vocab_size\": \(big), \"context_length\": \(big)",
                "\"hidden_size\": 16777216, \"layer_count\": 4096, \"head_count\": 1, \"kv_head_count\": 1, \"feed_forward_size\": 16777216, \"vocab_size\": 16777216, \"context_length\": 16",
                "\"hidden_size\": 9223372036854775807, \"layer_count\": 1, \"head_count\": 1, \"kv_head_count\": 1, \"feed_forward_size\": 1, \"vocab_size\": 1, \"context_length\": 1",
            ] {
                let body = "{\"id\": \"big\", \"synthetic\": {\"seed\": \"\(Self.seedHex)\", \"config\": {\(config)}}}"
                let r = try await Self.raw(server.url + "/v1/models/load", body: body)
                #expect(r.status == 400, "\(r.body)")
                #expect(try Self.errorObject(r.body)["field"] == "synthetic.config")
            }
            #expect(try await Self.raw(server.url + "/v1/state", method: .GET).status == 200)
        }
    }

    @Test func streamsGenerationAsNDJSON() async throws {
        try await Self.withServer { server, _ in
            let r = try await Self.raw(server.url + "/v1/generate",
                                       body: "{\"model\": \"chorus/synthetic-tiny\", \"prompt_tokens\": [1, 2], \"max_tokens\": 3, \"top_logprobs\": 1}")
            #expect(r.status == 200)
            let lines = r.body.split(separator: "\n")
            #expect(lines.count == 4)
            let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[3].utf8)) as? [String: Any])
            #expect(last["finish_reason"] as? String == "length")
            #expect(last.keys.contains("seed"))
            let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(first["index"] as? Int == 0)
            #expect((first["top"] as? [[Double]])?.count == 1)
        }
    }

    @Test func listenAddressesParse() {
        #expect(WorkerHTTPServer.ListenAddress("127.0.0.1:8090") == .tcp(host: "127.0.0.1", port: 8090))
        #expect(WorkerHTTPServer.ListenAddress("[::1]:0") == .tcp(host: "::1", port: 0))
        #expect(WorkerHTTPServer.ListenAddress("unix:/tmp/w.sock") == .unix(path: "/tmp/w.sock"))
        #expect(WorkerHTTPServer.ListenAddress("nohost") == nil)
        #expect(WorkerHTTPServer.ListenAddress(":80") == nil)
        #expect(WorkerHTTPServer.ListenAddress("h:99999") == nil)
    }
}
