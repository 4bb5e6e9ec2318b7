import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusNode
import Logging
import Synchronization

/// Throughput of the full transport: two `Node`s on their own loop threads, one Noise session over
/// loopback, application messages sent with `Node.send` and delivered to a registered handler —
/// framing, fragmentation, ChaCha20-Poly1305 both ways, send queue and dispatch included.
///
/// Flow control is the application's: the sender keeps at most `window` messages (≈ 2 MiB) in
/// flight and the receiver's handler wakes it as messages arrive, so no message is ever dropped and
/// no thread spins. Measured from the first send until the last message reaches the handler.
enum SessionBenchmark {
    static let tag: UInt8 = 0x7e

    struct Result: Sendable {
        let messageSize: Int
        let messages: Int
        let elapsed: Duration
        var messagesPerSecond: Double { Double(messages) / elapsed.seconds }
        var bytesPerSecond: Double { Double(messages) * Double(messageSize) / elapsed.seconds }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Two connected nodes for one benchmark run.
    struct Pair {
        let sender: Node
        let receiver: Node
        let loops: [EventLoop]

        static func connect() async throws -> Pair {
            var logger = Logger(label: "bench")
            logger.logLevel = .error
            let receiverLoop = try EventLoop(name: "bench-receiver")
            let senderLoop = try EventLoop(name: "bench-sender")
            var configuration = NodeConfiguration(networkID: "bench", listen: ["127.0.0.1:0"])
            configuration.keepaliveInterval = .seconds(60)
            configuration.idleTimeout = .seconds(600)
            let receiver = Node(configuration: configuration, signingKey: .generate(), peerStore: nil, loop: receiverLoop, logger: logger)
            try await receiver.start()
            configuration.seeds = await receiver.status().listenAddresses
            configuration.listen = []
            let sender = Node(configuration: configuration, signingKey: .generate(), peerStore: nil, loop: senderLoop, logger: logger)
            try await sender.start()
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                let senderPeers = await sender.connectedPeers, receiverPeers = await receiver.connectedPeers
                if !senderPeers.isEmpty && !receiverPeers.isEmpty { break }
                guard ContinuousClock.now < deadline else { throw Failure(description: "the benchmark nodes did not connect within 10 s") }
                try await Task.sleep(for: .milliseconds(5))
            }
            return Pair(sender: sender, receiver: receiver, loops: [senderLoop, receiverLoop])
        }

        func close() async {
            await sender.stop()
            await receiver.stop()
            loops.forEach { $0.shutdown() }
        }
    }

    static func run(messageSize: Int, count: Int) async throws -> Result {
        let pair = try await Pair.connect()
        let result = try await run(pair, messageSize: messageSize, count: count)
        await pair.close()
        return result
    }

    static func run(_ pair: Pair, messageSize: Int, count: Int) async throws -> Result {
        let window = max(16, (2 << 20) / max(messageSize, 64))
        let received = SharedCounter()
        let receiverKey = pair.receiver.publicKey
        let senderLoop = pair.sender.loop
        let state = try await senderLoop.run {
            LoopBound(SenderState(node: pair.sender, to: receiverKey, payload: [UInt8](repeating: 0xA5, count: messageSize),
                                  count: count, window: window, received: received), loop: senderLoop)
        }
        let finished = Mutex<CheckedContinuation<ContinuousClock.Instant, Never>?>(nil)
        let wakeEvery = max(1, window / 4)
        await pair.receiver.setHandler(for: tag) { _, _ in
            let n = received.value.add(1, ordering: .relaxed).newValue
            if n == count {
                let now = ContinuousClock.now
                finished.withLock { $0?.resume(returning: now); $0 = nil }
            } else if n % wakeEvery == 0 {
                _ = senderLoop.execute { state.value.pump() }
            }
        }
        let start = ContinuousClock.now
        let end = await withCheckedContinuation { continuation in
            finished.withLock { $0 = continuation }
            _ = senderLoop.execute { state.value.pump() }
        }
        let drops = await pair.sender.currentCounters.sendDrops
        guard drops == 0 else { throw Failure(description: "\(drops) messages were dropped; the window is too large") }
        return Result(messageSize: messageSize, messages: count, elapsed: end - start)
    }

    /// The sender's side, on its loop: sends while fewer than `window` messages are in flight.
    final class SenderState {
        let node: Node
        let peer: Ed25519.PublicKey
        let payload: [UInt8]
        let count: Int
        let window: Int
        let received: SharedCounter
        var sent = 0

        init(node: Node, to peer: Ed25519.PublicKey, payload: [UInt8], count: Int, window: Int, received: SharedCounter) {
            self.node = node
            self.peer = peer
            self.payload = payload
            self.count = count
            self.window = window
            self.received = received
        }

        /// Runs on the sender's loop, which is the node's executor.
        func pump() {
            let inFlight = sent - received.value.load(ordering: .relaxed)
            let batch = min(window - inFlight, count - sent)
            guard batch > 0 else { return }
            let (node, payload, peer) = (self.node, self.payload, self.peer)
            let queued = node.assumeIsolated { node -> Int in
                var queued = 0
                while queued < batch, node.send(payload, tag: SessionBenchmark.tag, to: peer, priority: .publish) { queued += 1 }
                return queued
            }
            sent += queued
        }
    }
}

/// A counter shared by the receiver's handler and the sender (atomic, so no lock on the hot path).
final class SharedCounter: Sendable {
    let value = Atomic<Int>(0)
}
