internal import CLibUV
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A TCP connection (IPv4 or IPv6) with `TCP_NODELAY` set, so small protocol messages leave at once.
///
/// Everything about reading, writing, backpressure and closing is in `StreamConnection`.
public final class TCPConnection: StreamConnection {
    /// This side's address, known once connected or accepted.
    public private(set) var localAddress: SocketAddress?
    /// The other side's address: the target while connecting, the kernel's answer once connected.
    public private(set) var peerAddress: SocketAddress?

    init(loop: EventLoop, state: State, peer: SocketAddress?) {
        let handle = loop.allocateHandle(uv_tcp_t.self)
        uv_tcp_init(loop.loop, handle)  // cannot fail with the default address family
        peerAddress = peer
        super.init(loop: loop, handle: UnsafeMutableRawPointer(handle), state: state)
    }

    /// Connects to `address` and reports the open connection (not yet reading) or the error.
    ///
    /// `completion` runs exactly once, on the loop thread, never before this call returns. Errors:
    /// `.system` (e.g. `ECONNREFUSED`, `ENETUNREACH`), `.timedOut` after `timeout`, `.loopShutDown`.
    /// Must be called on the loop thread.
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, timeout: Duration = .seconds(5),
        _ completion: @escaping (Result<TCPConnection, LoopError>) -> Void
    ) {
        loop.preconditionInLoop()
        let connection = TCPConnection(loop: loop, state: .connecting, peer: address)
        let operation = "connect to \(address)"
        connection.connect(
            timeout: timeout, operation: operation,
            start: { request, handle in
                let rc = address.withSockAddr {
                    uv_tcp_connect(
                        request, handle.assumingMemoryBound(to: uv_tcp_t.self), $0, StreamConnection.connectCallback)
                }
                return rc == 0 ? nil : .uv(rc, operation)
            },
            completion: { result in completion(result.map { connection }) })
    }

    /// Connects to `address`; the async form of `connect(to:on:timeout:_:)` for actors bound to `loop`.
    ///
    /// It runs on the caller's executor (`nonisolated(nonsending)`), which must be the loop, for
    /// example a ChorusNode actor whose executor is `loop`; elsewhere it traps.
    nonisolated(nonsending)
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, timeout: Duration = .seconds(5)
    ) async throws(LoopError) -> TCPConnection {
        let outcome = await withCheckedContinuation { continuation in
            connect(to: address, on: loop, timeout: timeout) {
                continuation.resume(returning: LoopBound($0, loop: loop))
            }
        }
        return try outcome.value.get()
    }

    override var endpointDescription: String {
        peerAddress.map { "\($0)" } ?? "TCP peer"
    }

    override func didConnect() {
        guard let tcp = handle?.assumingMemoryBound(to: uv_tcp_t.self) else { return }
        uv_tcp_nodelay(tcp, 1)
        localAddress = Self.address(of: tcp, peer: false)
        peerAddress = Self.address(of: tcp, peer: true) ?? peerAddress
    }

    /// The local (`peer == false`) or remote address of a TCP handle, from the kernel.
    static func address(of tcp: UnsafeMutablePointer<uv_tcp_t>, peer: Bool) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? uv_tcp_getpeername(tcp, $0, &length) : uv_tcp_getsockname(tcp, $0, &length)
            }
        }
        return rc == 0 ? SocketAddress(storage) : nil
    }
}
