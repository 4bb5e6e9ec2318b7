internal import CLibUV

/// A bound UDP socket on one IPv4 or IPv6 address (a `uv_udp_t`), for protocols whose messages are
/// single datagrams (SWIM's probes): no connection, no ordering, no delivery guarantee.
///
/// Loop-confined: create and use it on the loop thread only. It stays open (and keeps this object
/// alive) until `close()` or loop shutdown. IPv6 sockets are IPv6-only, like `TCPListener`, so
/// `0.0.0.0` and `[::]` can be bound on the same port side by side.
///
/// Sending never queues: `send` hands the datagram to the kernel at once (`uv_udp_try_send`) and
/// reports a full socket buffer as a drop, which is what UDP would do a moment later anyway. Received
/// datagrams longer than `maxDatagramSize` arrive truncated from the kernel and are dropped (counted in
/// `truncatedDrops`), never delivered in part.
public final class UDPSocket: HandleOwner {
    /// The loop the socket belongs to.
    public let loop: EventLoop
    /// The bound address, with the actual port when port 0 was requested.
    public private(set) var localAddress: SocketAddress
    /// The largest datagram delivered to `onDatagram`; longer ones are dropped.
    public let maxDatagramSize: Int
    /// Datagrams dropped on receipt because they were longer than `maxDatagramSize`.
    public private(set) var truncatedDrops = 0
    /// Datagrams `send` could not hand to the kernel (buffer full, unreachable, wrong family).
    public private(set) var sendFailures = 0

    /// The `uv_udp_t`; nil once its close callback ran and the memory is freed.
    private var handle: UnsafeMutablePointer<uv_udp_t>?
    private var onDatagram: (([UInt8], SocketAddress) -> Void)?
    /// The one receive buffer libuv fills (the callback copies out of it before returning).
    /// Invariant: allocated in `init` with `maxDatagramSize + 1` bytes, freed in `handleDidClose`
    /// after libuv can no longer write to it.
    private var buffer: UnsafeMutableRawPointer?

    /// Binds to `address` (port 0 picks a free port; read it from `localAddress`) and starts receiving.
    ///
    /// - Parameters:
    ///   - maxDatagramSize: the longest datagram accepted (at most 65,507, the IPv4 payload limit).
    ///   - onDatagram: each received datagram and its sender; runs on the loop thread.
    /// - Throws: `LoopError` `.system`, e.g. `EADDRINUSE` or `EADDRNOTAVAIL`.
    /// Must be called on the loop thread.
    public init(bindingTo address: SocketAddress, on loop: EventLoop, maxDatagramSize: Int = 65_507,
                onDatagram: @escaping ([UInt8], SocketAddress) -> Void) throws(LoopError) {
        loop.preconditionInLoop()
        self.loop = loop
        self.localAddress = address
        self.maxDatagramSize = max(1, min(maxDatagramSize, 65_507))
        self.onDatagram = onDatagram
        let udp = loop.allocateHandle(uv_udp_t.self)
        uv_udp_init(loop.loop, udp)  // cannot fail with the default address family
        handle = udp
        // One spare byte: a datagram that fills it is longer than the limit.
        buffer = .allocate(byteCount: self.maxDatagramSize + 1, alignment: 16)
        loop.adopt(udp, owner: self)

        let flags = address.family == .ipv6 ? UInt32(UV_UDP_IPV6ONLY.rawValue) : 0
        var rc = address.withSockAddr { uv_udp_bind(udp, $0, flags) }
        if rc == 0 {
            rc = uv_udp_recv_start(udp, { handle, _, buf in
                guard let handle, let buf, let owner = handleOwner(handle, as: UDPSocket.self) else { return }
                buf.pointee = owner.receiveBuffer()
            }, { udp, nread, buf, addr, flags in
                guard let udp, let owner = handleOwner(udp, as: UDPSocket.self) else { return }
                owner.received(count: nread, base: buf?.pointee.base, from: addr, flags: flags)
            })
        }
        if rc != 0 {
            let failure = LoopError.uv(rc, "bind UDP socket to \(address)")
            close()
            throw failure
        }
        localAddress = Self.boundAddress(of: udp) ?? address
    }

    /// Sends one datagram to `destination`. Returns false (and counts it) when the kernel did not take
    /// it: a full buffer, an unreachable network, an address of the other family, or a closed socket.
    @discardableResult
    public func send(_ datagram: [UInt8], to destination: SocketAddress) -> Bool {
        loop.preconditionInLoop()
        guard let handle, uv_is_closing(cuv_handle(handle)) == 0, datagram.count <= 65_507,
              destination.family == localAddress.family else {
            sendFailures += 1
            return false
        }
        let rc = datagram.withUnsafeBytes { bytes -> Int32 in
            // Invariant: libuv only reads the buffer, and only during this call (try_send does not queue).
            var buf = cuv_buf(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
            return destination.withSockAddr { uv_udp_try_send(handle, &buf, 1, $0) }
        }
        guard rc >= 0 else {
            sendFailures += 1
            return false
        }
        return true
    }

    /// Stops receiving and closes the socket; idempotent.
    public func close() {
        loop.preconditionInLoop()
        guard let handle, uv_is_closing(cuv_handle(handle)) == 0 else { return }
        onDatagram = nil
        uv_udp_recv_stop(handle)
        uv_close(cuv_handle(handle), closeHandleCallback)
    }

    /// Whether `close()` was called (or the loop shut down).
    public var isClosed: Bool {
        loop.preconditionInLoop()
        guard let handle else { return true }
        return uv_is_closing(cuv_handle(handle)) != 0
    }

    func closeForShutdown() { close() }

    func handleDidClose() {
        handle = nil
        onDatagram = nil
        buffer?.deallocate()
        buffer = nil
    }

    private func receiveBuffer() -> uv_buf_t {
        cuv_buf(buffer, buffer == nil ? 0 : maxDatagramSize + 1)
    }

    private func received(count: Int, base: UnsafeMutablePointer<CChar>?, from addr: UnsafePointer<sockaddr>?, flags: UInt32) {
        // nread 0 with no address: the kernel had nothing more; negative: a transient socket error
        // (for example an ICMP port-unreachable reported on Linux). Neither is a datagram.
        guard count >= 0, let addr, let base else { return }
        if flags & UInt32(UV_UDP_PARTIAL.rawValue) != 0 || count > maxDatagramSize {
            truncatedDrops += 1
            return
        }
        guard let sender = Self.socketAddress(addr) else { return }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: count))
        onDatagram?(bytes, sender)
    }

    private static func socketAddress(_ addr: UnsafePointer<sockaddr>) -> SocketAddress? {
        var storage = sockaddr_storage()
        let length = Int32(addr.pointee.sa_family) == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: length)) }
        return SocketAddress(storage)
    }

    private static func boundAddress(of udp: UnsafeMutablePointer<uv_udp_t>) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_udp_getsockname(udp, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage) : nil
    }
}

@available(*, unavailable, message: "UDPSocket is confined to its loop's thread")
extension UDPSocket: Sendable {}
