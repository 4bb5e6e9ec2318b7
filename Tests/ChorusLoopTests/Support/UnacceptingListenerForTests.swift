#if canImport(Glibc)
import Glibc
#endif
import ChorusLoop

/// A plain kernel socket listening on 127.0.0.1 with backlog 0 that never accepts: once one connection
/// waits in its queue, the kernel drops further SYNs, so connecting hangs (a deterministic black hole).
struct UnacceptingListenerForTests {
    struct SocketCallFailed: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call) failed with errno \(code)" }
    }

    let descriptor: Int32
    let address: SocketAddress

    init(listen: Bool = true) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketCallFailed(call: "socket", code: errno) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = descriptor
        let bound = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SocketCallFailed(call: "bind", code: errno) }
        if listen, Glibc.listen(descriptor, 0) != 0 { throw SocketCallFailed(call: "listen", code: errno) }
        address = .loopbackIPv4(port: UInt16(bigEndian: sa.sin_port))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    /// A loopback port that nothing listens on (bound, then released).
    static func unusedPort() throws -> UInt16 {
        let socket = try UnacceptingListenerForTests(listen: false)
        socket.close()
        return socket.address.port
    }
}
