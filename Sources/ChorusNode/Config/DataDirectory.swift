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
}
