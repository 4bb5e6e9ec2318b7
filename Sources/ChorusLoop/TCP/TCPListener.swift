internal import CLibUV

/// A listening TCP socket on one IPv4 or IPv6 address.
///
/// IPv6 listeners are IPv6-only (`IPV6_V6ONLY`): listen on `0.0.0.0` and `[::]` separately for both
/// families, which keeps the behaviour the same on every system.
public final class TCPListener: StreamListener {
    /// The bound address, with the actual port when port 0 was requested.
    public private(set) var localAddress: SocketAddress
    private var onAccept: ((TCPConnection) -> Void)?

    /// Binds and listens on `address` (port 0 picks a free port; read it from `localAddress`).
    ///
    /// - Parameters:
    ///   - backlog: the kernel's queue of connections not yet accepted.
    ///   - onAccept: receives each new connection, open but not yet reading; runs on the loop thread.
    /// - Throws: `LoopError` `.system`, e.g. `EADDRINUSE` or `EADDRNOTAVAIL`.
    /// Must be called on the loop thread.
    public init(
        bindingTo address: SocketAddress, on loop: EventLoop, backlog: Int32 = 511,
        onAccept: @escaping (TCPConnection) -> Void
    ) throws(LoopError) {
        loop.preconditionInLoop()
        let tcp = loop.allocateHandle(uv_tcp_t.self)
        uv_tcp_init(loop.loop, tcp)  // cannot fail with the default address family
        localAddress = address
        self.onAccept = onAccept
        super.init(loop: loop, handle: UnsafeMutableRawPointer(tcp))

        let flags = address.family == .ipv6 ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0
        let rc = address.withSockAddr { uv_tcp_bind(tcp, $0, flags) }
        // libuv may report EADDRINUSE from bind or only from listen.
        let failure = rc != 0 ? LoopError.uv(rc, "bind TCP listener to \(address)") : listen(backlog: backlog)
        if let failure {
            close()
            throw failure
        }
        localAddress = TCPConnection.address(of: tcp, peer: false) ?? address
    }

    override var endpointDescription: String { "\(localAddress)" }

    override func acceptPending() {
        let connection = TCPConnection(loop: loop, state: .open, peer: nil)
        if accept(into: connection) {
            onAccept?(connection)
        }
    }

    override func didClose() {
        onAccept = nil
    }
}
