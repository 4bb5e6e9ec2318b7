public import ChorusWorkerAPI
import Foundation

/// Who may use a served worker, and which files a client may make it read (Specs/worker.md §2).
///
/// Loopback is not authentication: every local user reaches 127.0.0.1. So a worker on TCP always
/// needs a bearer token, and only a Unix socket (mode 0600, so only the worker's user connects)
/// may go without. A client's `models/load` may name only files under `modelDirectory`: a worker
/// run as root would otherwise open any file for anyone who holds the token (and tell whether paths
/// exist). The operator's own `--model` arguments are not client requests and are not restricted.
public struct WorkerAccess: Sendable, Equatable {
    /// The bearer token clients must send; nil only on a Unix socket.
    public var token: String?
    /// The directory (symlinks resolved at each load) a client's load request may read model files
    /// from; nil refuses every file load from clients (synthetic models stay allowed).
    public var modelDirectory: String?

    public init(token: String? = nil, modelDirectory: String? = nil) {
        self.token = token
        self.modelDirectory = modelDirectory
    }

    /// The file a client's load request may open for `path` (relative paths are taken inside the
    /// model directory), or a 403 that says nothing about the file itself. The path is first checked
    /// lexically, so a path outside the directory is refused before anything touches the file
    /// system; then symlinks are resolved and checked again, so a link inside cannot lead out.
    public func allowedModelFile(_ path: String) throws(WorkerError) -> String {
        guard let modelDirectory else {
            throw WorkerError(status: 403, code: "path_not_allowed",
                              message: "this worker loads no model files for clients (its operator loads them with --model, or allows a directory with --model-dir)",
                              field: "path")
        }
        let directory = Self.lexicallyNormalized(modelDirectory)
        let candidate = Self.lexicallyNormalized(path.hasPrefix("/") ? path : directory + "/" + path)
        guard Self.isInside(candidate, directory) else { throw Self.outside(modelDirectory) }
        guard let realDirectory = Self.realPath(directory) else {
            throw WorkerError(status: 403, code: "path_not_allowed",
                              message: "the worker's model directory \(modelDirectory) does not exist", field: "path")
        }
        guard let real = Self.realPath(candidate) else {
            throw WorkerError(status: 404, code: "not_found",
                              message: "no file \(path) in the worker's model directory \(modelDirectory)", field: "path")
        }
        guard Self.isInside(real, realDirectory) else { throw Self.outside(modelDirectory) }
        return real
    }

    private static func outside(_ directory: String) -> WorkerError {
        WorkerError(status: 403, code: "path_not_allowed",
                    message: "a client may load model files only from the worker's model directory \(directory)", field: "path")
    }

    private static func isInside(_ path: String, _ directory: String) -> Bool {
        directory == "/" ? path.hasPrefix("/") : path.hasPrefix(directory + "/")
    }

    /// Removes `.`, `..` and repeated slashes without touching the file system (`..` above the
    /// root stays at the root, as the kernel does).
    static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// Where a worker's bearer token comes from: `--token`, else `$CHORUS_WORKER_TOKEN`, else a token
/// file. A server given a token file that does not exist creates it (mode 0600, 32 random bytes as
/// hex), so `worker serve --token-file F` and a client's `--token-file F` work with nothing else.
public enum WorkerToken {
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case empty(path: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): "cannot read the worker token file \(path): \(reason)"
            case let .empty(path): "the worker token file \(path) is empty; put the token in it or delete it to have a new one made"
            }
        }
    }

    public static let environmentVariable = "CHORUS_WORKER_TOKEN"

    /// The token to use, or nil when none is configured anywhere.
    public static func resolve(token: String?, file: String?, createFile: Bool) throws(Failure) -> String? {
        if let token, !token.isEmpty { return token }
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { return env }
        guard let file else { return nil }
        if createFile, !FileManager.default.fileExists(atPath: file) { try create(file) }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw .unreadable(path: file, reason: "\(error.localizedDescription)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty(path: file) }
        return trimmed
    }

    /// Writes a fresh token with O_EXCL and mode 0600, so it is never readable by others, not even
    /// for a moment, and an existing file is never replaced.
    private static func create(_ path: String) throws(Failure) {
        var rng = SystemRandomNumberGenerator()  // getrandom(2): suitable for secrets
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(token.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw .unreadable(path: path, reason: "short write") }
    }
}
