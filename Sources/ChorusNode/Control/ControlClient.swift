import ChorusLoop
import Foundation

/// The CLI side of the control socket: sends one request to a running node and returns its answer.
public enum ControlClient {
    /// Sends `request` to the node listening at `socketPath` and decodes the answer's result.
    ///
    /// - Throws: `ControlClientError` when no node listens there, the node does not answer in time,
    ///   or answers with an error (`.nodeError`, with the node's typed `ControlError`).
    public static func call<R: Codable & Sendable>(
        _ request: ControlRequest, socketPath: String, as type: R.Type, timeout: Duration = .seconds(10)
    ) async throws(ControlClientError) -> R {
        let line = try await exchange(request, socketPath: socketPath, timeout: timeout)
        let response: ControlResponse<R>
        do { response = try JSONDecoder().decode(ControlResponse<R>.self, from: Data(line)) } catch {
            throw .malformedAnswer(String(decoding: line.prefix(200), as: UTF8.self))
        }
        if let error = response.controlError { throw .nodeError(error) }
        guard let result = response.result else { throw .malformedAnswer("ok without a result: \(String(decoding: line.prefix(200), as: UTF8.self))") }
        return result
    }

    /// Writes the request line and reads one answer line on a private loop.
    private static func exchange(_ request: ControlRequest, socketPath: String, timeout: Duration) async throws(ControlClientError) -> [UInt8] {
        let requestLine: [UInt8]
        do { requestLine = Array(try JSONEncoder().encode(request)) + [0x0a] } catch { throw .malformedAnswer("cannot encode request") }
        let loop: EventLoop
        do { loop = try EventLoop(name: "chorus-control") } catch { throw .cannotConnect(socketPath, error.description) }
        defer { loop.shutdown() }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], ControlClientError>, Never>) in
            let submitted = loop.execute {
                let exchange = Exchange(continuation: continuation)
                let timer = LoopTimer(on: loop)
                timer.schedule(after: timeout) {
                    exchange.finish(.failure(.timedOut(socketPath, timeout)))
                    exchange.connection?.close(.requested("control request timed out"))
                    timer.close()
                }
                UnixConnection.connect(path: socketPath, on: loop, timeout: timeout) { result in
                    switch result {
                    case let .failure(error):
                        exchange.finish(.failure(ControlClientError.connectFailed(socketPath, error)))
                        timer.close()
                    case let .success(connection):
                        exchange.connection = connection
                        var buffer: [UInt8] = []
                        connection.onRead = { chunk in
                            buffer += chunk
                            if let newline = buffer.firstIndex(of: 0x0a) {
                                exchange.finish(.success(Array(buffer[..<newline])))
                                connection.close(.requested("answer received"))
                                timer.close()
                            }
                        }
                        connection.onClose = { _ in
                            exchange.finish(.failure(.malformedAnswer("the node closed the connection without answering")))
                            timer.close()
                        }
                        connection.startReading()
                        connection.write(requestLine)
                    }
                }
            }
            if !submitted { continuation.resume(returning: .failure(.cannotConnect(socketPath, "client loop stopped"))) }
        }
        return try result.get()
    }

    /// One request's state on the client loop. Loop-confined; resumes its continuation once.
    private final class Exchange {
        let continuation: CheckedContinuation<Result<[UInt8], ControlClientError>, Never>
        var connection: UnixConnection?
        private var done = false

        init(continuation: CheckedContinuation<Result<[UInt8], ControlClientError>, Never>) { self.continuation = continuation }

        func finish(_ result: Result<[UInt8], ControlClientError>) {
            guard !done else { return }
            done = true
            continuation.resume(returning: result)
        }
    }
}

/// Why a control request failed.
public enum ControlClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotConnect(String, String)
    /// EACCES on connect: the socket (or a directory on its path) belongs to another user.
    /// `owner` names the socket's owner when it can be seen.
    case permissionDenied(String, owner: String?)
    case timedOut(String, Duration)
    case malformedAnswer(String)
    /// The node answered with an error.
    case nodeError(ControlError)

    public var description: String {
        switch self {
        case let .cannotConnect(path, why):
            return "cannot reach a node at \(path): \(why) (is `chorusd run` running with this --data-dir?)"
        case let .permissionDenied(path, owner):
            let whose = owner.map { "it belongs to \($0), " } ?? ""
            return "permission denied on the control socket \(path): \(whose)this user (uid \(getuid())) may not connect: "
                + "the node runs as another user, or the socket or a directory above it is not open to this user; "
                + "run `chorus` as the node's user (e.g. `sudo -u USER chorus ...`), or check --data-dir"
        case let .timedOut(path, after): return "the node at \(path) did not answer within \(after)"
        case let .malformedAnswer(text): return "the node sent a malformed answer: \(text)"
        case let .nodeError(error): return error.description
        }
    }

    /// A stable machine-readable code: the node's `error_code` for `.nodeError` (nil when the node
    /// sent none), else one of this client's own.
    public var code: String? {
        switch self {
        case .cannotConnect: "cannot_connect"
        case .permissionDenied: "permission_denied"
        case .timedOut: "no_answer"
        case .malformedAnswer: "malformed_answer"
        case let .nodeError(error): error.code
        }
    }
}

extension ControlClientError {
    /// The error for a failed connect to `path`: permission problems get their own case.
    static func connectFailed(_ path: String, _ error: LoopError) -> ControlClientError {
        guard error.systemErrorName == "EACCES" || error.systemErrorName == "EPERM" else {
            return .cannotConnect(path, error.description)
        }
        return .permissionDenied(path, owner: owner(of: path))
    }

    /// "user NAME (uid N)" for the socket at `path` (else its directory) when that is another
    /// user; nil when it is this user or cannot be seen.
    static func owner(of path: String) -> String? {
        var info = stat()
        let directory = (path as NSString).deletingLastPathComponent
        guard stat(path, &info) == 0 || stat(directory.isEmpty ? "." : directory, &info) == 0,
              info.st_uid != getuid() else { return nil }
        if let entry = getpwuid(info.st_uid), let name = entry.pointee.pw_name {
            return "user \(String(cString: name)) (uid \(info.st_uid))"
        }
        return "uid \(info.st_uid)"
    }
}
