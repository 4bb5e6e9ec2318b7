import Foundation
import Hummingbird
import Logging
import NIOCore

/// A fake worker that misbehaves in one chosen way, to check that the client times out or
/// reports the worker unhealthy instead of hanging or trusting the answer.
struct MisbehavingWorkerForTests {
    enum Behaviour: Sendable {
        /// Accepts the request and never answers.
        case hang
        /// Answers 500 with a plain-text body.
        case crash
        /// Answers 200 with a body that is not JSON.
        case garbage
        /// Answers 200 with JSON of the wrong shape.
        case wrongShape
        /// Starts a generation stream with one token line, then goes silent.
        case stallStream
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let behaviour: Behaviour

        func respond(to request: Request, context: Context) async throws -> Response {
            switch behaviour {
            case .hang:
                try await Task.sleep(for: .seconds(3600))
                return Response(status: .ok)
            case .crash:
                return Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "Traceback: boom")))
            case .garbage:
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "<html>hi")))
            case .wrongShape:
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"protocol\": \"one\"}")))
            case .stallStream:
                let body = ResponseBody(contentLength: nil) { (writer: inout any ResponseBodyWriter) in
                    try await writer.write(ByteBuffer(string: "{\"index\":0,\"id\":5,\"logprob\":-0.1,\"top\":[]}\n"))
                    try await Task.sleep(for: .seconds(3600))
                }
                return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
            }
        }
    }

    let url: String
    let task: Task<Void, any Error>

    static func start(_ behaviour: Behaviour) async throws -> MisbehavingWorkerForTests {
        var logger = Logger(label: "misbehaving-worker-for-tests")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(responder: Responder(behaviour: behaviour),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              }, logger: logger)
        let task = Task { try await app.run() }
        var port = 0
        for await p in ports { port = p }
        return MisbehavingWorkerForTests(url: "http://127.0.0.1:\(port)", task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
