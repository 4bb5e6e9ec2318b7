import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp (short paths: Unix socket paths are limited to 107 bytes), removed with
/// everything in it by `remove()`.
struct TemporaryDirectoryForTests {
    let path: String

    init() throws {
        var template = Array("/tmp/chorus-loop-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: created)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// File facts the Unix socket tests check.
enum FileFactsForTests {
    /// Permission bits and whether it is a socket; nil if nothing is at `path`.
    static func mode(of path: String) -> (permissions: mode_t, isSocket: Bool)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (info.st_mode & 0o777, (info.st_mode & S_IFMT) == S_IFSOCK)
    }

    /// Leaves a socket file at `path` with nobody listening, as a crashed process would.
    static func makeStaleSocketFile(at path: String) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            target.copyBytes(from: path.utf8)
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(descriptor)
    }
}
