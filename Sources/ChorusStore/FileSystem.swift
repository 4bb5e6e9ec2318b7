#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file-system calls the store needs before LMDB takes over.
enum FileSystem {
    /// Creates `path` and any missing parents with mode 0700 (the store holds a node's private state).
    /// An existing directory is left as it is.
    static func createDirectory(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if mkdir(prefix, 0o700) != 0 {
                let code = errno
                guard code == EEXIST else { throw failure("create directory", prefix, code) }
                guard isDirectory(prefix) else { throw failure("create directory", prefix, ENOTDIR) }
            }
            prefix += "/"
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// A string naming the directory's inode, the same for every path that reaches it.
    static func identity(ofDirectory path: String) throws(StoreError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("inspect", path, errno) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw failure("open store directory", path, ENOTDIR) }
        return "\(info.st_dev):\(info.st_ino)"
    }

    static func failure(_ operation: String, _ path: String, _ code: Int32) -> StoreError {
        .fileSystem(operation: operation, path: path, errno: code, message: String(cString: strerror(code)))
    }
}
