import Foundation

/// The files of a node's data directory, in one place so `chorusd` and `chorus` agree on them.
///
/// ```
/// DIR/node.key       Ed25519 identity (mode 0600)
/// DIR/config.toml    the node's configuration (commented; written by `chorusd init`)
/// DIR/store/         the LMDB environment (statements, peers, ...)
/// DIR/control.sock   the control socket of a running node (mode 0600)
/// DIR/audit/         per-epoch audit reports of a verify-only node (epoch-N.json, epoch-N.html)
/// DIR/chorusd.lock   held (flock) by the running chorusd, with its pid: one process per directory
/// ```
public struct DataDirectory: Sendable, Equatable {
    public let path: String

    public init(_ path: String) {
        // Absolute, so the control socket path does not depend on the working directory.
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        self.path = trimmed.hasPrefix("/") ? trimmed : FileManager.default.currentDirectoryPath + "/" + trimmed
    }

    public var keyFile: String { path + "/node.key" }
    public var configFile: String { path + "/config.toml" }
    public var storeDirectory: String { path + "/store" }
    public var controlSocket: String { path + "/control.sock" }
    public var auditDirectory: String { path + "/audit" }
    public var lockFile: String { path + "/chorusd.lock" }

    /// Whether `chorusd init` has run here.
    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: keyFile) && FileManager.default.fileExists(atPath: configFile)
    }

    /// Why this directory cannot be used as an initialized data directory, or nil when it can:
    /// it (or a directory on its path) is missing, is a file, cannot be read by this user, or
    /// lacks the key or config that `chorusd init` writes. With `readingFiles` (for the node
    /// itself) the key and config must be readable too; `chorus` only needs them to exist.
    public func problem(readingFiles: Bool = true) -> Problem? {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            switch code {
            case ENOENT: return .missing(path)
            case ENOTDIR: return .notADirectory(path, component: Self.fileOnPath(path))
            case EACCES: return .permissionDenied(path, component: Self.deniedOnPath(path))
            default: return .unreadable(path, String(cString: strerror(code)))
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return .notADirectory(path, component: path) }
        guard access(path, R_OK | X_OK) == 0 else { return .permissionDenied(path, component: path) }
        for file in [keyFile, configFile] {
            guard access(file, F_OK) == 0 else {
                let code = errno
                if code == EACCES { return .permissionDenied(path, component: file) }
                return .notInitialized(path, missing: file)
            }
        }
        for file in [keyFile, configFile] where readingFiles && access(file, R_OK) != 0 {
            return .permissionDenied(path, component: file)
        }
        return nil
    }

    /// The first existing non-directory on `path`'s way (`/a/file` for `/a/file/b`).
    private static func fileOnPath(_ path: String) -> String {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            var info = stat()
            if stat(prefix, &info) == 0, info.st_mode & S_IFMT != S_IFDIR { return prefix }
        }
        return path
    }

    /// The first directory on `path`'s way that this user may not enter.
    private static func deniedOnPath(_ path: String) -> String {
        var prefix = ""
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            if access(prefix, X_OK) != 0 { return prefix }
        }
        return path
    }

    /// Why a data directory cannot be used; each description says what to do.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// Nothing exists at the path.
        case missing(String)
        /// The path, or `component` on its way, is a file rather than a directory.
        case notADirectory(String, component: String)
        /// This user may not read or enter `component` (the directory, a parent, or a file in it).
        case permissionDenied(String, component: String)
        /// The directory exists but `chorusd init` has not written `missing` there.
        case notInitialized(String, missing: String)
        /// Any other error from the file system.
        case unreadable(String, String)

        public var description: String {
            switch self {
            case let .missing(path):
                return "there is no data directory at \(path); create one with `chorusd init --data-dir \(path)`, or check --data-dir"
            case let .notADirectory(path, component) where component == path:
                return "\(path) is not a directory (it is a file); pass the data directory made by `chorusd init`"
            case let .notADirectory(path, component):
                return "\(path) cannot be a data directory: \(component) is a file, not a directory; check --data-dir"
            case let .permissionDenied(path, component) where component == path:
                return "permission denied on \(path): this user (uid \(getuid())) cannot read it; run as the user that owns "
                    + "the node (`ls -ld \(path)`), or fix its permissions"
            case let .permissionDenied(path, component):
                return "permission denied on \(component) (in data directory \(path)): this user (uid \(getuid())) cannot read it; "
                    + "run as the user that owns the node (`ls -ld \(component)`), or fix its permissions"
            case let .notInitialized(path, missing):
                return "\(path) is not an initialized data directory (no \(missing)); run `chorusd init --data-dir \(path)` first"
            case let .unreadable(path, why):
                return "cannot use data directory \(path): \(why)"
            }
        }
    }
}
