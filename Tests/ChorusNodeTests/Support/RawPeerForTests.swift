import ChorusLoop
import ChorusMesh
import Synchronization

/// A raw TCP client (or accepted server-side connection) that a test drives byte by byte to play a
/// hostile or hand-built peer. Lives on its own loop; every operation hops onto it.
///
/// `@unchecked Sendable` invariant: `connection` is only touched on `loop` (inside `execute`/`run`
/// closures); the received bytes and the closed flag are guarded by `state`.
final class RawPeerForTests: @unchecked Sendable {
    let loop: EventLoop
    private var connection: StreamConnection?
    private let state = Mutex<(received: [UInt8], closed: Bool)>(([], false))

    private init(loop: EventLoop) { self.loop = loop }

    /// Connects to `address` ("127.0.0.1:port").
    static func connect(to address: String, loop: EventLoop) async throws -> RawPeerForTests {
        let peer = RawPeerForTests(loop: loop)
        let target = try SocketAddress(parsing: address)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            _ = loop.execute {
                TCPConnection.connect(to: target, on: loop) { result in
                    switch result {
                    case let .success(connection):
                        peer.attach(connection)
                        continuation.resume()
                    case let .failure(error):
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
        return peer
    }

    /// Wraps a connection accepted by a test listener (called on the loop).
    static func accepted(_ connection: TCPConnection, loop: EventLoop) -> RawPeerForTests {
        let peer = RawPeerForTests(loop: loop)
        peer.attach(connection)
        return peer
    }

    private func attach(_ connection: StreamConnection) {
        self.connection = connection
        connection.onRead = { [self] chunk in self.state.withLock { $0.received += chunk } }
        connection.onClose = { [self] _ in self.state.withLock { $0.closed = true } }
        connection.startReading()
    }

    /// Stops reading from the socket: what the node sends piles up on its side (a peer that never reads).
    func stopReading() {
        _ = loop.execute { self.connection?.stopReading() }
    }

    func write(_ bytes: [UInt8]) {
        _ = loop.execute { self.connection?.write(bytes) }
    }

    func close() {
        _ = loop.execute { self.connection?.close(.requested("test done")) }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Removes and returns complete frames received so far.
    func takeFrames() -> [[UInt8]] {
        state.withLock { s in
            var decoder = FrameDecoder()
            guard let frames = try? decoder.feed(s.received) else { return [] }
            s.received = Array(s.received.suffix(decoder.bufferedBytes))
            return frames
        }
    }

    /// Waits for the next frame (up to 20 s: the full suite loads both cores).
    func nextFrame() async throws -> [UInt8] {
        var pending: [[UInt8]] = []
        _ = await eventually(timeout: .seconds(20)) {
            pending = takeFrames()
            return !pending.isEmpty
        }
        guard let first = pending.first else { throw RawPeerErrorForTests.noFrame }
        // Frames after the first are put back in front of any bytes received since.
        if pending.count > 1 {
            state.withLock { $0.received = pending.dropFirst().flatMap(FrameDecoder.frame) + $0.received }
        }
        return first
    }
}

enum RawPeerErrorForTests: Error { case noFrame }
