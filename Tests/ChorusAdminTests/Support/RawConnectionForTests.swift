import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking TCP connection to 127.0.0.1 (keep-alive HTTP/1.1 by hand), so a test can hold
/// connections open and see one closed by the server, which an HTTP client's pool hides.
final class RawConnectionForTests: Sendable {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard result == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// Sends a GET and returns what came back before the first pause (the whole small answer), or
    /// "" when the server closed the connection. The blocking calls run on a Dispatch thread: on
    /// the cooperative pool they would hold a thread the server's own tasks need.
    func get(_ path: String) async -> String {
        let fd = self.fd
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Self.exchange(fd, path)) }
        }
    }

    private static func exchange(_ fd: Int32, _ path: String) -> String {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
    }

    func close() {
        Glibc.close(fd)
    }
}
