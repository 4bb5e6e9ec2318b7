public import ChorusCompute
public import ChorusWorkerAPI
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Serves a `WorkerAPI` (normally the in-process `WorkerService`) over HTTP/1.1 per
/// Specs/worker.md, on TCP or a Unix socket, so other nodes and tools can use this machine's
/// worker. Start with `start(...)`; the returned server reports its URL and stops on `stop()`.
public final class WorkerHTTPServer: Sendable {
    /// Where to listen: `HOST:PORT` (port 0 picks a free one) or `unix:PATH`.
    public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// Parses `HOST:PORT`, `[IPv6]:PORT` or `unix:PATH`.
        public init?(_ text: String) {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard !path.isEmpty else { return nil }
                self = .unix(path: path)
                return
            }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                  (0...65_535).contains(port) else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { return nil }
            self = .tcp(host: host, port: port)
        }

        public var description: String {
            switch self {
            case let .tcp(host, port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case let .unix(path): "unix:\(path)"
            }
        }
    }

    public enum StartError: Error, CustomStringConvertible {
        case tokenRequired(ListenAddress)
        case cannotListen(ListenAddress, reason: String)

        public var description: String {
            switch self {
            case let .tokenRequired(address):
                """
                a worker listening on TCP (\(address)) must have a token, loopback included (every local user can reach \
                127.0.0.1): pass --token-file FILE (a random token is written there if it does not exist), --token or \
                CHORUS_WORKER_TOKEN; or listen on unix:PATH (mode 0600) without one
                """
            case let .cannotListen(address, reason):
                "cannot listen on \(address): \(reason)"
            }
        }

        /// A plain reason, with what to do, for the error that stopped the server binding `address`
        /// (NIO's `IOError` text such as "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)").
        static func reason(_ error: any Error, binding address: ListenAddress) -> String {
            if let unknown = error as? SocketAddressError.UnknownHost {
                return "cannot resolve host \(unknown.host) (\(unknown.errorDescription.lowercased())); give an IP address or a known name"
            }
            if case .unixDomainSocketPathTooLong? = error as? SocketAddressError {
                return "the path is too long for a Unix socket (under 108 bytes); pick a shorter --listen unix:PATH"
            }
            guard let code = (error as? IOError)?.errnoCode else { return "\(error)" }
            let plain = String(cString: strerror(code)).lowercased()
            switch (code, address) {
            case (EADDRINUSE, _):
                return "address already in use (another worker or program has it; pick another --listen)"
            case (EACCES, .tcp), (EPERM, .tcp):
                return "permission denied (ports below 1024 need privileges; pick a port of 1024 or more with --listen)"
            case (EACCES, .unix(let path)), (EPERM, .unix(let path)):
                return "permission denied (this user cannot create a socket in \((path as NSString).deletingLastPathComponent); "
                    + "pick a directory you can write with --listen unix:PATH)"
            case (EADDRNOTAVAIL, .tcp(let host, _)):
                return "\(host) is not an address of this machine (use 127.0.0.1, 0.0.0.0 or an address of one of its interfaces)"
            case (ENOENT, .unix(let path)), (ENOTDIR, .unix(let path)):
                return "\(plain): the directory \((path as NSString).deletingLastPathComponent) does not exist or is not a directory "
                    + "(pick another --listen unix:PATH)"
            case (ENAMETOOLONG, .unix), (EINVAL, .unix):
                return "\(plain) (a Unix socket path must be under 108 bytes; pick a shorter --listen unix:PATH)"
            default:
                return plain
            }
        }
    }

    /// The base URL clients use: `http://HOST:PORT` or `http+unix://<percent-encoded path>`.
    public let url: String
    private let task: Task<Void, any Error>

    private init(url: String, task: Task<Void, any Error>) {
        self.url = url
        self.task = task
    }

    /// Binds and starts serving; returns once connections are accepted.
    /// A TCP address needs `access.token` (Specs/worker.md §2); a Unix socket is made mode 0600.
    public static func start(worker: WorkerService, listen: ListenAddress, access: WorkerAccess,
                             limits: WorkerLimits = WorkerLimits()) async throws(StartError) -> WorkerHTTPServer {
        if case .tcp = listen, access.token == nil { throw .tokenRequired(listen) }
        let responder = WorkerHTTPResponder(worker: worker, access: access, limits: limits)
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
        // cancelled connection at shutdown) would only add noise to the READY handshake's stdout.
        var logger = Logger(label: "chorus.worker.http")
        logger.logLevel = .critical
        let (bound, boundContinuation) = AsyncStream<Result<String, StartError>>.makeStream()
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: bind, serverName: "chorus-worker"),
            onServerRunning: { channel in
                switch listen {
                case let .tcp(host, _):
                    let port = channel.localAddress?.port ?? 0
                    let shown = host.contains(":") ? "[\(host)]" : host
                    boundContinuation.yield(.success("http://\(shown):\(port)"))
                case let .unix(path):
                    chmod(path, 0o600)
                    let encoded = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
                    boundContinuation.yield(.success("http+unix://\(encoded)"))
                }
                boundContinuation.finish()
            },
            logger: logger)
        let task = Task {
            do {
                try await app.run()
            } catch {
                boundContinuation.yield(.failure(.cannotListen(listen, reason: StartError.reason(error, binding: listen))))
                boundContinuation.finish()
                throw error
            }
        }
        for await result in bound {
            switch result {
            case let .success(url): return WorkerHTTPServer(url: url, task: task)
            case let .failure(error): throw error
            }
        }
        task.cancel()
        throw .cannotListen(listen, reason: "the server stopped before it accepted connections")
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
