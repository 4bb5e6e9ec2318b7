public import ChorusCompute
public import ChorusWorkerAPI
public import ChorusHTTP

/// Serves a `WorkerAPI` (normally the in-process `WorkerService`) over HTTP/1.1 per
/// Specs/worker.md, on TCP or a Unix socket, so other nodes and tools can use this machine's
/// worker. Start with `start(...)`; the returned server reports its URL and stops on `stop()`.
public final class WorkerHTTPServer: Sendable {
    /// Where to listen: `HOST:PORT` (port 0 picks a free one) or `unix:PATH`.
    public typealias ListenAddress = ChorusHTTP.ListenAddress

    public enum StartError: Error, CustomStringConvertible {
        case tokenRequired(ListenAddress)
        case cannotListen(ListenError)

        public var description: String {
            switch self {
            case let .tokenRequired(address):
                """
                a worker listening on TCP (\(address)) must have a token, loopback included (every local user can reach \
                127.0.0.1): pass --token-file FILE (a random token is written there if it does not exist), --token or \
                CHORUS_WORKER_TOKEN; or listen on unix:PATH (mode 0600) without one
                """
            case let .cannotListen(error):
                error.description
            }
        }
    }

    private let listener: HTTPListener

    /// The base URL clients use: `http://HOST:PORT` or `http+unix://<percent-encoded path>`.
    public var url: String { listener.url }

    private init(listener: HTTPListener) {
        self.listener = listener
    }

    /// Binds and starts serving; returns once connections are accepted.
    /// A TCP address needs `access.token` (Specs/worker.md §2); a Unix socket is made mode 0600.
    public static func start(worker: WorkerService, listen: ListenAddress, access: WorkerAccess,
                             limits: WorkerLimits = WorkerLimits()) async throws(StartError) -> WorkerHTTPServer {
        if case .tcp = listen, access.token == nil { throw .tokenRequired(listen) }
        let responder = WorkerHTTPResponder(worker: worker, access: access, limits: limits)
        do {
            return WorkerHTTPServer(listener: try await HTTPListener.start(responder, listen: listen, flag: "--listen",
                                                                            serverName: "chorus-worker"))
        } catch {
            throw .cannotListen(error)
        }
    }

    /// Stops accepting connections and shuts the server down.
    public func stop() async {
        await listener.stop()
    }

    /// Runs until the server stops (e.g. the process is signalled).
    public func wait() async throws {
        try await listener.wait()
    }
}
