import Foundation
import Synchronization

/// `log_file` / `--log-file`: the JSON lines of `DaemonLogHandler` appended to a file, bounded.
/// A line that would take the file past `maxBytes` first renames it to `PATH.1` (replacing the
/// previous one) and starts an empty file, so the log takes at most about twice `maxBytes` on
/// disk however long the node runs. `reopen()` (on SIGHUP) starts writing to whatever is at PATH
/// now, for an outside rotation (logrotate's "move, then HUP").
final class JSONLogFile: Sendable {
    let path: String
    let maxBytes: Int
    private struct State {
        var handle: FileHandle?
        var size: Int
    }
    private let state: Mutex<State>

    /// Opens (creating, mode 0600: a log names peers and addresses) PATH for appending.
    init(path: String, maxBytes: Int) throws(JSONLogFileError) {
        self.path = path
        self.maxBytes = maxBytes
        let (handle, size) = try Self.open(path)
        state = Mutex(State(handle: handle, size: size))
    }

    private static func open(_ path: String) throws(JSONLogFileError) -> (FileHandle, Int) {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JSONLogFileError(path: path, reason: String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let size = (try? handle.seekToEnd()).map(Int.init) ?? 0
        return (handle, size)
    }

    /// Appends one line (rotating first when it would not fit). Write errors are dropped: logging
    /// must never stop the node, and stderr still has every line.
    func append(_ line: Data) {
        state.withLock { state in
            if state.size > 0, state.size + line.count > maxBytes {
                try? state.handle?.close()
                state.handle = nil
                _ = rename(path, path + ".1")
                if let opened = try? Self.open(path) { (state.handle, state.size) = (opened.0, opened.1) }
            }
            guard let handle = state.handle else { return }
            do {
                try handle.write(contentsOf: line)
                state.size += line.count
            } catch {}
        }
    }

    /// Closes the file and opens PATH again (a new file if it was moved away).
    func reopen() throws(JSONLogFileError) {
        let (handle, size) = try Self.open(path)
        state.withLock { state in
            try? state.handle?.close()
            state.handle = handle
            state.size = size
        }
    }
}

struct JSONLogFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot open the log file \(path): \(reason)" }
}
