import ChorusCompute
import ChorusHTTP
import ChorusWorkerAPI
import Foundation
import Hummingbird
import NIOCore

/// Maps HTTP requests to `WorkerService` calls (Specs/worker.md): routing, bearer-token check,
/// body limits, JSON in and out, protocol error bodies, and the NDJSON generation stream.
struct WorkerHTTPResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let worker: WorkerService
    let access: WorkerAccess
    let limits: WorkerLimits

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            return try await route(request)
        } catch let error as WorkerError {
            return Self.error(error)
        } catch {
            return Self.error(WorkerError(status: 500, code: "internal", message: "\(error)"))
        }
    }

    static func error(_ error: WorkerError, headers: HTTPFields = [:]) -> Response {
        json(WorkerJSON.errorBody(error), status: error.status, headers: headers)
    }

    static func json(_ data: Data, status: Int = 200, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func ok(_ value: some Encodable, status: Int = 200, headers: HTTPFields = [:]) -> Response {
        json(WorkerJSON.encode(value), status: status, headers: headers)
    }

    private func route(_ request: Request) async throws -> Response {
        if let token = access.token {
            guard constantTimeEqual(request.headers[.authorization] ?? "", "Bearer \(token)") else {
                throw WorkerError(status: 401, code: "unauthorized", message: "missing or wrong bearer token")
            }
        }
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
            .map { String($0).removingPercentEncoding ?? String($0) }
        let method = request.method
        func allow(_ methods: [HTTPRequest.Method]) throws {
            guard methods.contains(method) else {
                let list = methods.map(\.rawValue).joined(separator: ", ")
                throw MethodNotAllowed(allow: list)
            }
        }
        do {
            switch parts {
            case ["v1", "info"]:
                try allow([.get])
                return Self.ok(await worker.info())
            case ["v1", "models"]:
                try allow([.get])
                return Self.ok(await worker.models())
            case ["v1", "state"]:
                try allow([.get])
                return Self.ok(await worker.state())
            case ["v1", "stop"]:
                try allow([.post])
                _ = try await body(request, allowEmpty: true)
                return Self.ok(await worker.stop())
            case ["v1", "models", "load"] where method == .post:
                var r = try WorkerJSON.decode(LoadModelRequest.self, from: try await body(request))
                if let path = r.path { r.path = try access.allowedModelFile(path) }
                return Self.ok(try await worker.loadModel(r))
            case let p where p.count == 3 && p[0] == "v1" && p[1] == "models":
                try allow([.delete])
                return Self.ok(try await worker.unloadModel(p[2]))
            case ["v1", "poc", "jobs"]:
                try allow([.get, .post])
                if method == .get { return Self.ok(await worker.jobs()) }
                let r = try WorkerJSON.decode(PoCJobRequest.self, from: try await body(request))
                let status = try await worker.startJob(r)
                return Self.ok(status, status: 201, headers: [.location: "/v1/poc/jobs/\(status.id)"])
            case let p where p.count == 4 && p[0] == "v1" && p[1] == "poc" && p[2] == "jobs":
                try allow([.get, .delete])
                if method == .get { return Self.ok(try await worker.job(p[3])) }
                return Self.ok(try await worker.deleteJob(p[3]))
            case let p where p.count == 5 && p[0] == "v1" && p[1] == "poc" && p[2] == "jobs" && p[4] == "artifacts":
                try allow([.get])
                let q = request.uri.queryParameters
                let after = try Self.query(q["after"], "after", default: UInt64(0))
                let wait = try Self.query(q["wait_ms"], "wait_ms", default: 0)
                let maxBatches: Int? = try q["max_batches"].map { _ in try Self.query(q["max_batches"], "max_batches", default: 0) }
                return Self.ok(try await worker.artifacts(job: p[3], after: after, waitMs: wait, maxBatches: maxBatches))
            case ["v1", "poc", "verify"]:
                try allow([.post])
                return Self.ok(try await worker.verify(WorkerJSON.decode(VerifyRequest.self, from: try await body(request))))
            case ["v1", "generate"]:
                try allow([.post])
                let r = try WorkerJSON.decode(GenerateRequest.self, from: try await body(request))
                return try await generate(r)
            case ["v1", "score"]:
                try allow([.post])
                return Self.ok(try await worker.score(WorkerJSON.decode(ScoreRequestMessage.self, from: try await body(request))))
            case ["v1", "tokenize"]:
                try allow([.post])
                return Self.ok(try await worker.tokenize(WorkerJSON.decode(TokenizeRequest.self, from: try await body(request))))
            case ["v1", "detokenize"]:
                try allow([.post])
                return Self.ok(try await worker.detokenize(WorkerJSON.decode(DetokenizeRequest.self, from: try await body(request))))
            default:
                throw WorkerError(status: 404, code: "not_found", message: "no endpoint \(method.rawValue) \(request.uri.path)")
            }
        } catch let e as MethodNotAllowed {
            var headers = HTTPFields()
            headers[.allow] = e.allow
            return Self.error(WorkerError(status: 405, code: "method_not_allowed",
                                          message: "\(request.uri.path) allows \(e.allow)"), headers: headers)
        }
    }

    private struct MethodNotAllowed: Error {
        let allow: String
    }

    private static func query<T: LosslessStringConvertible>(_ raw: Substring?, _ name: String,
                                                              default value: T) throws(WorkerError) -> T {
        guard let raw else { return value }
        guard let parsed = T(String(raw)) else { throw WorkerError.invalidQuery(name) }
        return parsed
    }

    /// The request body: Content-Length only (chunked gets 411), at most `max_body_bytes` (413).
    private func body(_ request: Request, allowEmpty: Bool = false) async throws(WorkerError) -> Data {
        if let te = request.headers[.transferEncoding], te.lowercased().contains("chunked") {
            throw WorkerError(status: 411, code: "length_required", message: "send the body with Content-Length, not chunked")
        }
        var r = request
        let buffer: ByteBuffer
        do {
            buffer = try await r.collectBody(upTo: limits.maxBodyBytes)
        } catch {
            throw WorkerError(status: 413, code: "too_large", message: "the body exceeds \(limits.maxBodyBytes) bytes")
        }
        if buffer.readableBytes == 0 {
            if allowEmpty { return Data("{}".utf8) }
            throw WorkerError(status: 400, code: "invalid_json", message: "the body is empty; send a JSON object")
        }
        return Data(buffer.readableBytesView)
    }

    /// Streams NDJSON (one token per line, then the finish line), or answers once with
    /// `stream: false`. Input errors are answered before the stream starts; a client that
    /// disconnects cancels the generation at its next token.
    private func generate(_ request: GenerateRequest) async throws -> Response {
        let prepared = try worker.prepare(request)
        let worker = self.worker
        if request.stream == false {
            return Self.ok(try await worker.generate(prepared) { _ in true })
        }
        let (lines, continuation) = AsyncStream<Data>.makeStream()
        let box = DisconnectFlag()
        let body = ResponseBody(contentLength: nil) { (writer: inout any ResponseBodyWriter) in
            let generation = Task {
                do throws(WorkerError) {
                    let result = try await worker.generate(prepared) { line in
                        continuation.yield(WorkerJSON.encode(line) + Data("\n".utf8))
                        return !box.isSet
                    }
                    let end = GenerateEndMessage(finishReason: result.finishReason, seed: result.seed, usage: result.usage)
                    continuation.yield(WorkerJSON.encode(end) + Data("\n".utf8))
                } catch {
                    continuation.yield(WorkerJSON.errorBody(error) + Data("\n".utf8))
                }
                continuation.finish()
            }
            do {
                for await line in lines {
                    try await writer.write(ByteBuffer(bytes: line))
                }
                try await writer.finish(nil)
            } catch {
                box.set()
                _ = await generation.value
                throw error
            }
            // The stream also ends early when this task is cancelled (the connection went away);
            // after a complete stream the generation has already finished and this changes nothing.
            box.set()
            _ = await generation.value
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }
}

extension WorkerError {
    static func invalidQuery(_ name: String) -> WorkerError {
        WorkerError(status: 400, code: "invalid_request", message: "query parameter must be a non-negative integer", field: name)
    }
}
