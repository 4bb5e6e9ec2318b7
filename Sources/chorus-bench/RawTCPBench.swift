import ChorusLoop

/// Raw TCP throughput over loopback through ChorusLoop: one connection, the sender on one loop thread
/// and the receiver on another, messages framed like transport messages (2-byte big-endian length +
/// payload), `batch` messages per `write` (1: one write, so one `write(2)` call, per message), the
/// sender pausing whenever the connection reports it is not writable. The receiver parses the frames
/// and counts them without touching the payload.
///
/// This is the baseline for `chorus-bench transport`: the encrypted transport's rate is reported as a
/// ratio to this one, measured in the same run.
enum RawTCPBenchmark {
    struct Result: Sendable {
        let messageSize: Int
        let messages: Int
        let batch: Int
        let elapsed: Duration
        /// Messages per second.
        let messagesPerSecond: Double
        /// Payload bytes (frame headers excluded) per second.
        let bytesPerSecond: Double
    }

    struct InvalidMessageSize: Error, CustomStringConvertible {
        let size: Int
        var description: String { "message size \(size) is outside 0...65535 (the 2-byte frame length)" }
    }

    /// Sends `count` messages of `messageSize` payload bytes, `batch` frames per write, and measures
    /// from the first write until the receiver has parsed the last frame.
    static func run(messageSize: Int, count: Int, batch: Int = 1) async throws -> Result {
        guard (0...Int(UInt16.max)).contains(messageSize) else { throw InvalidMessageSize(size: messageSize) }
        precondition(count > 0 && batch > 0, "count and batch must be positive")
        let serverLoop = try EventLoop(name: "bench-server")
        defer { serverLoop.shutdown() }
        let clientLoop = try EventLoop(name: "bench-client")
        defer { clientLoop.shutdown() }

        let (address, counter) = try await serverLoop.run { () throws -> (SocketAddress, LoopBound<FrameCounter>) in
            let counter = FrameCounter(expecting: count)
            // The listener lives until the loop shuts down (an open handle keeps its owner alive).
            let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0), on: serverLoop) { counter.attach($0) }
            return (listener.localAddress, LoopBound(counter, loop: serverLoop))
        }
        let sender: LoopBound<FrameSender> = try await withCheckedThrowingContinuation { continuation in
            clientLoop.execute {
                TCPConnection.connect(to: address, on: clientLoop) { result in
                    continuation.resume(
                        with: result.map {
                            LoopBound(
                                FrameSender($0, messageSize: messageSize, count: count, batch: batch), loop: clientLoop)
                        })
                }
            }
        }

        let start = ContinuousClock.now
        let end: ContinuousClock.Instant = await withCheckedContinuation { continuation in
            serverLoop.execute { counter.value.whenComplete { continuation.resume(returning: $0) } }
            clientLoop.execute { sender.value.start() }
        }
        let elapsed = end - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Result(
            messageSize: messageSize, messages: count, batch: batch, elapsed: elapsed,
            messagesPerSecond: Double(count) / seconds,
            bytesPerSecond: Double(count) * Double(messageSize) / seconds)
    }
}

/// Writes `count` frames, `batch` per write, as fast as backpressure allows (loop-confined).
final class FrameSender {
    private let connection: TCPConnection
    private let frame: [UInt8]
    private let batch: Int
    private let batchBytes: [UInt8]
    private var remaining: Int

    init(_ connection: TCPConnection, messageSize: Int, count: Int, batch: Int) {
        self.connection = connection
        let length = UInt16(messageSize)
        frame = [UInt8(length >> 8), UInt8(length & 0xFF)] + [UInt8](repeating: 0xA5, count: messageSize)
        self.batch = batch
        batchBytes = Array([[UInt8]](repeating: frame, count: batch).joined())
        remaining = count
    }

    func start() {
        connection.onWritabilityChanged = { [unowned self] writable in
            if writable { self.pump() }
        }
        pump()
    }

    private func pump() {
        while remaining > 0, connection.isWritable {
            if remaining >= batch {
                connection.write(batchBytes)
                remaining -= batch
            } else {
                connection.write(Array([[UInt8]](repeating: frame, count: remaining).joined()))
                remaining = 0
            }
        }
    }
}

/// Parses 2-byte-length frames from the accepted connection and counts them (loop-confined).
final class FrameCounter {
    private let expected: Int
    private var messages = 0
    private var headerBytesSeen = 0
    private var length = 0
    private var bodyRemaining = 0
    private var completedAt: ContinuousClock.Instant?
    private var onComplete: ((ContinuousClock.Instant) -> Void)?

    init(expecting expected: Int) {
        self.expected = expected
    }

    func attach(_ connection: TCPConnection) {
        connection.onRead = { [unowned self] chunk in self.consume(chunk) }
        connection.startReading()
    }

    /// Calls `body` with the instant the last frame arrived (at once if that already happened).
    func whenComplete(_ body: @escaping (ContinuousClock.Instant) -> Void) {
        if let completedAt { body(completedAt) } else { onComplete = body }
    }

    private func consume(_ chunk: [UInt8]) {
        var index = 0
        while index < chunk.count {
            if bodyRemaining > 0 {
                let take = min(bodyRemaining, chunk.count - index)
                index += take
                bodyRemaining -= take
                if bodyRemaining == 0 { frameDone() }
                continue
            }
            length = length << 8 | Int(chunk[index])
            index += 1
            headerBytesSeen += 1
            if headerBytesSeen == 2 {
                bodyRemaining = length
                headerBytesSeen = 0
                length = 0
                if bodyRemaining == 0 { frameDone() }
            }
        }
    }

    private func frameDone() {
        messages += 1
        guard messages == expected else { return }
        let now = ContinuousClock.now
        completedAt = now
        onComplete?(now)
        onComplete = nil
    }
}
