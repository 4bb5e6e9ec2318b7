import ChorusInference
import ChorusCrypto
import ChorusHTTP
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Maps HTTP requests to the backend (README "OpenAI-compatible API"): routing, API keys and
/// rate limits, body and concurrency bounds, OpenAI's JSON and Server-Sent Events. Errors are
/// answered in OpenAI's shape; nothing a client sends stops the listener.
struct APIResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let backend: any InferenceBackend
    let access: APIAccess
    let limits: APILimits
    /// Requests now being served (bounded by `limits.maxConcurrentRequests`).
    let inFlight: InFlightCounter
    /// Unix seconds, for `created`.
    let unixSeconds: @Sendable () -> Int

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            return try await route(request)
        } catch {
            return Self.error(error)
        }
    }

    static func error(_ error: OpenAIError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return Response(status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: error.body)))
    }

    static func json(_ value: some Encodable) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: APIJSON.encode(value))))
    }

    private func route(_ request: Request) async throws(OpenAIError) -> Response {
        let path = request.uri.path.hasSuffix("/") && request.uri.path.count > 1
            ? String(request.uri.path.dropLast()) : request.uri.path
        let method = request.method
        switch path {
        case "/health":
            try allow(method, [.get])
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        case "/v1/models":
            try allow(method, [.get])
            try access.admit(authorization: request.headers[.authorization])
            let created = unixSeconds()
            return Self.json(ModelListBody(data: try await backend.models().map { .init(id: $0, created: created) }))
        case "/v1/chat/completions", "/v1/completions":
            try allow(method, [.post])
            try access.admit(authorization: request.headers[.authorization])
            let kind: CompletionKind = path == "/v1/chat/completions" ? .chat : .text
            let parsed = try RequestParser.parse(try await body(request), kind: kind, limits: limits)
            guard inFlight.enter(limit: limits.maxConcurrentRequests) else {
                throw .overloaded("This node is serving \(limits.maxConcurrentRequests) requests already; retry shortly or use another node.")
            }
            if parsed.stream { return stream(parsed) }
            defer { inFlight.leave() }
            return try await complete(parsed)
        default:
            throw OpenAIError(status: 404, message: "No endpoint \(method.rawValue) \(request.uri.path). This API serves "
                + "POST /v1/chat/completions, POST /v1/completions, GET /v1/models and GET /health.",
                              type: "invalid_request_error", code: "unknown_url")
        }
    }

    private func allow(_ method: HTTPRequest.Method, _ methods: [HTTPRequest.Method]) throws(OpenAIError) {
        guard methods.contains(method) else {
            throw OpenAIError(status: 405, message: "Use \(methods.map(\.rawValue).joined(separator: " or ")) on this endpoint.",
                              type: "invalid_request_error", code: "method_not_allowed")
        }
    }

    private func body(_ request: Request) async throws(OpenAIError) -> Data {
        var r = request
        do {
            let buffer = try await r.collectBody(upTo: limits.maxBodyBytes)
            return Data(buffer.readableBytesView)
        } catch {
            throw OpenAIError(status: 413, message: "The request body exceeds \(limits.maxBodyBytes) bytes.",
                              type: "invalid_request_error", code: "request_too_large")
        }
    }

    private static func newID(_ kind: CompletionKind) -> String {
        (kind == .chat ? "chatcmpl-" : "cmpl-") + Hex.encode(SecureRandom.bytes(12))
    }

    /// Runs to the end and answers once.
    private func complete(_ parsed: ParsedRequest) async throws(OpenAIError) -> Response {
        let id = Self.newID(parsed.kind)
        let collected = Mutex(CompletionDelta(text: ""))
        let outcome = try await backend.run(parsed.job, limits: limits) { delta in
            collected.withLock { $0.text += delta.text; $0.logprobs += delta.logprobs }
            return true
        }
        let all = collected.withLock { $0 }
        let choice = ChoiceBody(parsed, content: parsed.kind == .chat ? .message(all.text) : .text(all.text),
                                logprobs: all.logprobs, finish: outcome.finishReason)
        return Self.json(CompletionBody(
            id: id, object: parsed.kind == .chat ? "chat.completion" : "text_completion", created: unixSeconds(),
            model: parsed.job.model, choices: [choice],
            usage: .some(UsageBody(promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens)),
            chorus: ChorusField(outcome, responseID: id)))
    }

    /// Answers with Server-Sent Events as OpenAI sends them: a first chunk with the role (chat),
    /// one chunk per piece of final text, a last chunk with `finish_reason`, the usage chunk when
    /// asked for, then `data: [DONE]`. An error after the stream started is sent as an `error`
    /// event before the stream ends. A client that disconnects stops the generation.
    private func stream(_ parsed: ParsedRequest) -> Response {
        let (events, continuation) = AsyncStream<Data>.makeStream()
        let out = EventWriter(parsed: parsed, id: Self.newID(parsed.kind), created: unixSeconds(), continuation: continuation)
        let backend = self.backend, limits = self.limits, inFlight = self.inFlight
        let gone = DisconnectFlag()
        let body = ResponseBody(contentLength: nil) { (writer: inout any ResponseBodyWriter) in
            let generation = Task {
                defer { inFlight.leave() }
                if parsed.kind == .chat { out.send(out.chunk(.delta(role: "assistant", content: ""), logprobs: [], finish: nil)) }
                do throws(OpenAIError) {
                    let outcome = try await backend.run(parsed.job, limits: limits) { delta in
                        guard !delta.text.isEmpty || !delta.logprobs.isEmpty else { return !gone.isSet }
                        let content: ChoiceBody.Content = parsed.kind == .chat ? .delta(role: nil, content: delta.text) : .text(delta.text)
                        out.send(out.chunk(content, logprobs: delta.logprobs, finish: nil))
                        return !gone.isSet
                    }
                    out.finish(outcome)
                } catch {
                    out.fail(error)
                }
            }
            do {
                for await event in events {
                    try await writer.write(ByteBuffer(bytes: event))
                }
                try await writer.finish(nil)
            } catch {
                gone.set()
                _ = await generation.value
                throw error
            }
            // The stream also ends early when this task is cancelled (the connection went away);
            // after a complete stream the generation has finished and this changes nothing.
            gone.set()
            _ = await generation.value
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// Writes one streamed response's Server-Sent Events: every chunk carries the same id, created
/// time and model; `usage` is null on each chunk when the client asked for the usage chunk.
private struct EventWriter: Sendable {
    let parsed: ParsedRequest
    let id: String
    let created: Int
    let continuation: AsyncStream<Data>.Continuation

    private var object: String { parsed.kind == .chat ? "chat.completion.chunk" : "text_completion" }

    func send(_ value: some Encodable) {
        continuation.yield(Data("data: ".utf8) + APIJSON.encode(value) + Data("\n\n".utf8))
    }

    func chunk(_ content: ChoiceBody.Content, logprobs: [TokenLogprob], finish: FinishReason?,
               chorus: ChorusField? = nil) -> CompletionBody {
        let choice = ChoiceBody(parsed, content: content, logprobs: logprobs, finish: finish)
        return CompletionBody(id: id, object: object, created: created, model: parsed.job.model, choices: [choice],
                              usage: parsed.includeUsage ? .some(nil) : nil, chorus: chorus)
    }

    /// The last chunk (with `finish_reason`), the usage chunk if asked for, then `[DONE]`.
    func finish(_ outcome: CompletionOutcome) {
        let chorus = ChorusField(outcome, responseID: id)
        let last: ChoiceBody.Content = parsed.kind == .chat ? .delta(role: nil, content: nil) : .text("")
        send(chunk(last, logprobs: [], finish: outcome.finishReason, chorus: chorus))
        if parsed.includeUsage {
            send(CompletionBody(id: id, object: object, created: created, model: parsed.job.model, choices: [],
                                usage: .some(UsageBody(promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens)),
                                chorus: chorus))
        }
        continuation.yield(Data("data: [DONE]\n\n".utf8))
        continuation.finish()
    }

    /// An error after the stream started: an `error` event, then the end of the stream.
    func fail(_ error: OpenAIError) {
        continuation.yield(Data("data: ".utf8) + error.body + Data("\n\n".utf8))
        continuation.finish()
    }
}

/// Counts requests in flight against a bound, without a lock on the hot path.
final class InFlightCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Takes a slot unless `limit` are taken.
    func enter(limit: Int) -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func leave() { count.subtract(1, ordering: .acquiringAndReleasing) }
}
