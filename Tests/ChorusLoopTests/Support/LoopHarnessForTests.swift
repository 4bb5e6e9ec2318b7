import Synchronization
import Testing
@testable import ChorusLoop

/// Creates a loop, runs `body`, then shuts the loop down and checks that every libuv handle was closed
/// and its memory freed.
@discardableResult
func withLoop<T>(
    _ name: String = "test-loop", _ body: (EventLoop) async throws -> T
) async throws -> T {
    let loop = try EventLoop(name: name)
    let result: T
    do {
        result = try await body(loop)
    } catch {
        loop.shutdown()
        throw error
    }
    loop.shutdown()
    #expect(loop.openHandles.load(ordering: .relaxed) == 0, "handles left open after shutdown")
    return result
}

/// The error a test reports when a connection ends before the expected bytes arrived.
struct ConnectionEndedForTests: Error, CustomStringConvertible {
    let reason: CloseReason
    let received: Int
    var description: String { "connection \(reason) after \(received) bytes" }
}

/// An actor that runs *on* a loop (its executor is the loop), so a test can create and drive
/// loop-confined objects directly inside its methods, and await callbacks through continuations.
/// This is also how ChorusNode's shell actor uses the loop.
actor LoopHarnessForTests {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    private var tcpListeners: [TCPListener] = []
    private var unixListeners: [UnixListener] = []
    /// Server-side connections accepted by the echo servers, in accept order.
    private(set) var accepted: [StreamConnection] = []

    init(loop: EventLoop) {
        self.loop = loop
    }

    // MARK: Servers

    /// Starts a TCP server that echoes every byte back; returns its bound address.
    func startTCPEchoServer(at address: SocketAddress) throws(LoopError) -> SocketAddress {
        let listener = try TCPListener(bindingTo: address, on: loop) { connection in
            self.serveEcho(connection)
        }
        tcpListeners.append(listener)
        return listener.localAddress
    }

    /// Starts a Unix-socket server that echoes every byte back.
    func startUnixEchoServer(at path: String) throws(LoopError) {
        let listener = try UnixListener(path: path, on: loop) { connection in
            self.serveEcho(connection)
        }
        unixListeners.append(listener)
    }

    private func serveEcho(_ connection: StreamConnection) {
        accepted.append(connection)
        connection.onRead = { [unowned connection] bytes in connection.write(bytes) }
        connection.startReading()
    }

    func closeListeners() {
        for listener in tcpListeners { listener.close() }
        for listener in unixListeners { listener.close() }
        tcpListeners.removeAll()
        unixListeners.removeAll()
    }

    var acceptedCount: Int { accepted.count }

    /// The peer address the server saw for its `index`-th accepted TCP connection.
    func acceptedPeerAddress(_ index: Int) -> SocketAddress? {
        (accepted[index] as? TCPConnection)?.peerAddress
    }

    // MARK: Clients

    /// Client connections, by the id handed to the test (connections cannot leave the loop).
    private var clients: [Int: StreamConnection] = [:]
    private var nextClientID = 0

    private func register(_ connection: StreamConnection) -> Int {
        nextClientID += 1
        clients[nextClientID] = connection
        return nextClientID
    }

    func client(_ id: Int) -> StreamConnection {
        guard let connection = clients[id] else { preconditionFailure("no client \(id)") }
        return connection
    }

    /// Connects over TCP and returns the client's id.
    func connectTCP(to address: SocketAddress, timeout: Duration = .seconds(10)) async throws(LoopError) -> Int {
        register(try await TCPConnection.connect(to: address, on: loop, timeout: timeout))
    }

    /// Connects to a Unix socket and returns the client's id.
    func connectUnix(to path: String) async throws(LoopError) -> Int {
        register(try await UnixConnection.connect(path: path, on: loop))
    }

    /// Writes `payload` on client `id`, reads until as many bytes came back, closes, returns them.
    func roundTrip(_ payload: [UInt8], over id: Int) async throws -> [UInt8] {
        let connection = client(id)
        return try await withCheckedThrowingContinuation { continuation in
            var received: [UInt8] = []
            var finished = false
            connection.onRead = { [unowned connection] bytes in
                received += bytes
                if received.count >= payload.count, !finished {
                    finished = true
                    continuation.resume(returning: received)
                    connection.close(.requested("round trip done"))
                }
            }
            connection.onClose = { reason in
                if !finished {
                    finished = true
                    continuation.resume(throwing: ConnectionEndedForTests(reason: reason, received: received.count))
                }
            }
            connection.startReading()
            connection.write(payload)
        }
    }

    /// Connects to a TCP echo server, round-trips `payload`, returns what came back.
    func echoTCP(_ payload: [UInt8], via address: SocketAddress) async throws -> [UInt8] {
        try await roundTrip(payload, over: try await connectTCP(to: address))
    }

    /// The local and peer address of TCP client `id`.
    func addresses(ofClient id: Int) -> (local: SocketAddress?, peer: SocketAddress?) {
        let connection = client(id) as? TCPConnection
        return (connection?.localAddress, connection?.peerAddress)
    }

    func close(client id: Int) {
        client(id).close(.requested("test finished"))
    }
}

/// Deterministic test bytes: `count` bytes of a simple pattern starting at `seed`.
///
/// A plain loop over an uninitialised buffer: a generic `map` over a range costs a runtime metadata
/// lookup per element in debug builds, which ThreadSanitizer turns into seconds per mebibyte.
func patternBytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var value = seed
        var index = 0
        while index < count {
            buffer[index] = value
            value &+= 31
            index += 1
        }
        initialized = count
    }
}
