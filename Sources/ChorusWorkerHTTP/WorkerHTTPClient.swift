import AsyncHTTPClient
public import ChorusWorkerAPI
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Talks to a worker over HTTP (Specs/worker.md): the Python reference worker, a GPU worker, or
/// another node's `chorus worker serve`. Every call has a deadline; a worker that hangs, answers
/// 5xx or sends something that is not protocol JSON yields a `WorkerClientError` whose
/// `workerUnhealthy` is true, so the caller can mark it unhealthy instead of waiting forever.
public struct WorkerHTTPClient: WorkerAPI {
    public struct Timeouts: Sendable {
        /// Ordinary requests (info, state, PoC control, verify, score, tokenize).
        public var request: Double = 30
        /// Model loads read and hash whole files (the spec suggests 60 s).
        public var load: Double = 60
        /// Longest silence between two lines of a generation stream.
        public var streamIdle: Double = 30
        public init() {}
    }

    /// Base URL: `http://HOST:PORT` or `http+unix://<percent-encoded socket path>`.
    public let baseURL: String
    public let token: String?
    public let timeouts: Timeouts

    public init(baseURL: String, token: String? = nil, timeouts: Timeouts = Timeouts()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.timeouts = timeouts
    }

    // MARK: - WorkerAPI

    public func info() async throws(WorkerClientError) -> InfoMessage { try await call(.GET, "/v1/info") }
    public func state() async throws(WorkerClientError) -> StateMessage { try await call(.GET, "/v1/state") }
    public func models() async throws(WorkerClientError) -> ModelsMessage { try await call(.GET, "/v1/models") }
    public func stop() async throws(WorkerClientError) -> StopMessage { try await call(.POST, "/v1/stop") }

    public func loadModel(_ request: LoadModelRequest) async throws(WorkerClientError) -> ModelMessage {
        try await call(.POST, "/v1/models/load", body: request, timeout: timeouts.load)
    }

    public func unloadModel(_ id: String) async throws(WorkerClientError) -> UnloadMessage {
        try await call(.DELETE, "/v1/models/" + Self.pathComponent(id))
    }

    public func startJob(_ request: PoCJobRequest) async throws(WorkerClientError) -> JobStatusMessage {
        try await call(.POST, "/v1/poc/jobs", body: request)
    }

    public func jobs() async throws(WorkerClientError) -> JobsMessage { try await call(.GET, "/v1/poc/jobs") }

    public func job(_ id: String) async throws(WorkerClientError) -> JobStatusMessage {
        try await call(.GET, "/v1/poc/jobs/" + Self.pathComponent(id))
    }

    public func artifacts(job id: String, after: UInt64, waitMs: Int, maxBatches: Int?) async throws(WorkerClientError) -> ArtifactsMessage {
        var path = "/v1/poc/jobs/\(Self.pathComponent(id))/artifacts?after=\(after)&wait_ms=\(waitMs)"
        if let maxBatches { path += "&max_batches=\(maxBatches)" }
        return try await call(.GET, path, timeout: timeouts.request + Double(waitMs) / 1000)
    }

    public func deleteJob(_ id: String) async throws(WorkerClientError) -> DeleteJobMessage {
        try await call(.DELETE, "/v1/poc/jobs/" + Self.pathComponent(id))
    }

    public func verify(_ request: VerifyRequest) async throws(WorkerClientError) -> VerifyMessage {
        try await call(.POST, "/v1/poc/verify", body: request)
    }

    public func score(_ request: ScoreRequestMessage) async throws(WorkerClientError) -> ScoreMessage {
        try await call(.POST, "/v1/score", body: request)
    }

    public func tokenize(_ request: TokenizeRequest) async throws(WorkerClientError) -> TokenizeMessage {
        try await call(.POST, "/v1/tokenize", body: request)
    }

    public func detokenize(_ request: DetokenizeRequest) async throws(WorkerClientError) -> DetokenizeMessage {
        try await call(.POST, "/v1/detokenize", body: request)
    }

    /// Reads the NDJSON stream line by line; a silence longer than `timeouts.streamIdle` fails
    /// with `timedOut`. Returning false from `onToken` closes the connection, which cancels the
    /// generation on the worker.
    public func generate(_ request: GenerateRequest,
                         onToken: @escaping @Sendable (TokenLineMessage) -> Bool) async throws(WorkerClientError) -> GenerateMessage {
        var r = request
        r.stream = true
        let url = baseURL + "/v1/generate"
        let http = try makeRequest(.POST, url, body: WorkerJSON.encode(r))
        let idle = timeouts.streamIdle
        let lastActivity = ActivityClock()
        return try await Self.mapErrors(url: url, seconds: idle, hardDeadline: false) { () async throws -> GenerateMessage in
            try await withThrowingTaskGroup(of: GenerateMessage?.self) { group in
                group.addTask {
                    // The watchdog below enforces the idle limit; AsyncHTTPClient's deadline covers the
                    // whole stream, so it only backstops a generation that never ends.
                    let response = try await HTTPClient.shared.execute(http, timeout: .hours(1))
                    lastActivity.touch()
                    guard response.status == .ok else {
                        let data = try await Self.collect(response.body, url: url)
                        throw Self.failure(status: Int(response.status.code), data: data, url: url)
                    }
                    var pending = Data()
                    var tokens: [TokenLineMessage] = []
                    do {
                        for try await chunk in response.body {
                            lastActivity.touch()
                            pending.append(contentsOf: chunk.readableBytesView)
                            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                                let line = Data(pending[pending.startIndex..<newline])
                                pending = Data(pending[pending.index(after: newline)...])
                                if let end = try Self.streamLine(line, url: url, tokens: &tokens, onToken: onToken) {
                                    return end
                                }
                            }
                        }
                    } catch is StopReading {
                        // Leaving the body unread closes the connection: the worker cancels.
                        return GenerateMessage(tokens: tokens, finishReason: FinishReason.cancelled.rawValue, seed: nil,
                                               usage: UsageMessage(promptTokens: request.promptTokens.count, completionTokens: tokens.count))
                    }
                    throw WorkerClientError.malformedResponse(url: url, reason: "the generation stream ended without a finish line")
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .milliseconds(100))
                        let silent = lastActivity.secondsSinceTouch
                        if silent > idle { return nil }
                    }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw WorkerClientError.timedOut(url: url, seconds: idle)
                }
                return result
            }
        }
    }

    /// Handles one stream line: a token (passed to `onToken`), the finish line (returned) or an
    /// error line (thrown). When `onToken` returns false it throws `StopReading`.
    private static func streamLine(_ line: Data, url: String, tokens: inout [TokenLineMessage],
                                   onToken: @Sendable (TokenLineMessage) -> Bool) throws -> GenerateMessage? {
        guard !line.isEmpty else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw WorkerClientError.malformedResponse(url: url, reason: "a stream line is not a JSON object")
        }
        if object["error"] != nil {
            guard let error = WorkerJSON.error(from: line, status: 500) else {
                throw WorkerClientError.malformedResponse(url: url, reason: "an error line without code and message")
            }
            throw WorkerClientError.serverError(url: url, status: 500, body: error.description)
        }
        if object["finish_reason"] != nil {
            let end: GenerateEndMessage
            do { end = try WorkerJSON.decode(GenerateEndMessage.self, from: line) } catch {
                throw WorkerClientError.malformedResponse(url: url, reason: "finish line: \(error)")
            }
            return GenerateMessage(tokens: tokens, finishReason: end.finishReason, seed: end.seed, usage: end.usage)
        }
        let token: TokenLineMessage
        do { token = try WorkerJSON.decode(TokenLineMessage.self, from: line) } catch {
            throw WorkerClientError.malformedResponse(url: url, reason: "token line: \(error)")
        }
        tokens.append(token)
        if !onToken(token) { throw StopReading() }
        return nil
    }

    private struct StopReading: Error {}

    // MARK: - Plumbing

    private static func pathComponent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }


    private func makeRequest(_ method: HTTPMethod, _ url: String, body: Data?) throws(WorkerClientError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    private func call<T: Decodable & Sendable>(_ method: HTTPMethod, _ path: String, body: (some Encodable)? = String?.none,
                                               timeout: Double? = nil) async throws(WorkerClientError) -> T {
        let url = baseURL + path
        let seconds = timeout ?? timeouts.request
        let http = try makeRequest(method, url, body: body.map { WorkerJSON.encode($0) } ?? (method == .POST ? Data("{}".utf8) : nil))
        return try await Self.mapErrors(url: url, seconds: seconds) { () async throws -> T in
            let response = try await HTTPClient.shared.execute(http, timeout: .milliseconds(Int64(seconds * 1000)))
            let data = try await Self.collect(response.body, url: url)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else { throw Self.failure(status: status, data: data, url: url) }
            do {
                return try WorkerJSON.decode(T.self, from: data)
            } catch {
                throw WorkerClientError.malformedResponse(url: url, reason: "\(error)")
            }
        }
    }

    private static func collect(_ body: HTTPClientResponse.Body, url: String) async throws -> Data {
        Data(try await body.collect(upTo: 64 << 20).readableBytesView)
    }

    /// A non-2xx answer: a protocol error body below 500 is a refusal; 5xx or anything that is
    /// not an error body means the worker is unhealthy.
    private static func failure(status: Int, data: Data, url: String) -> WorkerClientError {
        if status >= 500 {
            return .serverError(url: url, status: status, body: String(decoding: data.prefix(500), as: UTF8.self))
        }
        guard let error = WorkerJSON.error(from: data, status: status) else {
            return .malformedResponse(url: url, reason: "HTTP \(status) without a protocol error body")
        }
        return .refused(error)
    }

    /// Runs `body` (under a hard deadline of `seconds` unless `hardDeadline` is false: streams
    /// watch their own idle time) and maps transport failures to `WorkerClientError`.
    private static func mapErrors<T: Sendable>(url: String, seconds: Double, hardDeadline: Bool = true,
                                               _ body: @escaping @Sendable () async throws -> T) async throws(WorkerClientError) -> T {
        do {
            guard hardDeadline else { return try await body() }
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(seconds * 1000) + 500))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw WorkerClientError.timedOut(url: url, seconds: seconds)
                }
                return value
            }
        } catch let error as WorkerClientError {
            throw error
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                throw .timedOut(url: url, seconds: seconds)
            case .remoteConnectionClosed:
                throw .malformedResponse(url: url, reason: "the worker closed the connection before a complete answer")
            default:
                throw .unreachable(url: url, reason: "\(error)")
            }
        } catch {
            throw .unreachable(url: url, reason: "\(error)")
        }
    }
}

/// When a stream last showed activity (monotonic nanoseconds), shared by its reader and watchdog.
final class ActivityClock: Sendable {
    private let last = Atomic<Int64>(ActivityClock.now())

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func touch() { last.store(Self.now(), ordering: .relaxed) }
    var secondsSinceTouch: Double { Double(Self.now() - last.load(ordering: .relaxed)) / 1e9 }
}
