import Foundation
public import Hummingbird
import Logging
import NIOCore

/// A running Hummingbird HTTP/1.1 server bound to a `ListenAddress`. `start` returns once the
/// socket accepts connections, or throws a `ListenError` that says why it could not bind and
/// what to do; the worker server, the OpenAI-compatible API and the admin listener all start
/// this way.
public final class HTTPListener: Sendable {
    /// The base URL clients use: `http://HOST:PORT` (the bound port when 0 was asked) or
    /// `http+unix://<percent-encoded path>`.
    public let url: String
    /// The bound TCP port (0 for a Unix socket).
    public let port: Int
    private let task: Task<Void, any Error>

    private init(url: String, port: Int, task: Task<Void, any Error>) {
        self.url = url
        self.port = port
        self.task = task
    }

    /// Binds and starts serving `responder`; a Unix socket is made mode 0600 (only this user).
    /// `flag` is the option that chose `listen`, named in bind errors. With `maxConnections`, a
    /// connection beyond that many open ones is closed at once (`ConnectionLimit`).
    public static func start<Responder: HTTPResponder>(
        _ responder: Responder, listen: ListenAddress, flag: String, serverName: String, idleTimeout: Duration = .seconds(60),
        maxConnections: ConnectionLimit? = nil
    ) async throws(ListenError) -> HTTPListener where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        let bind: BindAddress
        switch listen {
        case let .tcp(host, port): bind = .hostname(host, port: port)
        case let .unix(path):
            // A stale socket from an earlier run would block the bind; anything else at the path
            // is the user's file and is left alone (the bind then fails with a clear error).
            if (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeSocket {
                try? FileManager.default.removeItem(atPath: path)
            }
            bind = .unixDomainSocket(path: path)
        }
        // Protocol errors go to clients in responses; Hummingbird's own error logs (e.g. on a
        // cancelled connection at shutdown) would only add noise to the daemon's output.
        var logger = Logger(label: "chorus.http.\(serverName)")
        logger.logLevel = .critical
        let (bound, boundContinuation) = AsyncStream<Result<(String, Int), ListenError>>.makeStream()
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: maxConnections.map { [$0.handler()] } ?? [],
                                                idleTimeout: .init(idleTimeout))),
            configuration: .init(address: bind, serverName: serverName),
            onServerRunning: { channel in
                switch listen {
                case let .tcp(host, _):
                    let port = channel.localAddress?.port ?? 0
                    let shown = host.contains(":") ? "[\(host)]" : host
                    boundContinuation.yield(.success(("http://\(shown):\(port)", port)))
                case let .unix(path):
                    chmod(path, 0o600)
                    let encoded = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
                    boundContinuation.yield(.success(("http+unix://\(encoded)", 0)))
                }
                boundContinuation.finish()
            },
            logger: logger)
        let task = Task {
            do {
                try await app.run()
            } catch {
                boundContinuation.yield(.failure(ListenError(address: listen, reason: ListenError.reason(error, binding: listen, flag: flag))))
                boundContinuation.finish()
                throw error
            }
        }
        for await result in bound {
            switch result {
            case let .success((url, port)): return HTTPListener(url: url, port: port, task: task)
            case let .failure(error): throw error
            }
        }
        task.cancel()
        throw ListenError(address: listen, reason: "the server stopped before it accepted connections")
    }

    /// Stops accepting connections and shuts the server down.
    public func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Runs until the server stops (e.g. the process is signalled).
    public func wait() async throws {
        try await task.value
    }
}
