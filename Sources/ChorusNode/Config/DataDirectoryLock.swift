import Foundation

/// An exclusive lock on a data directory, taken before its key, store or control socket is touched:
/// one `chorusd` per data directory. A second instance once opened the store, dialed a peer with the
/// first one's identity and left the peers' views wrong for 50 s before it failed on the socket.
///
/// `flock(2)` on `DIR/chorusd.lock`, which also holds the holder's pid for the error message. The
/// kernel releases the lock when the process ends however it ends (kill -9 included), so a stale
/// file never blocks a restart. Keep the value alive for the whole run.
public final class DataDirectoryLock: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Another process holds the lock.
        case held(path: String, pid: Int32?)
        case cannotOpen(path: String, reason: String)

        public var description: String {
            switch self {
            case let .held(path, pid):
                "another chorusd\(pid.map { " (pid \($0))" } ?? "") is running on this data directory (\(path) is locked); stop it first, or use another --data-dir"
            case let .cannotOpen(path, reason):
                "cannot open the lock file \(path): \(reason)"
            }
        }
    }

    /// The open descriptor holding the lock (closing it releases the lock); never read after init.
    private let descriptor: Int32

    public init(_ directory: DataDirectory) throws(Failure) {
        let path = directory.lockFile
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readPID(fd)
            close(fd)
            throw .held(path: path, pid: holder)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
