import ChorusCrypto
import ChorusLoop
import ChorusMesh

/// Noise XX handshake rates: the CPU cost of both sides in memory, and complete handshakes over
/// loopback TCP against a running node (connect, three messages, split, close), one after another.
enum HandshakeBenchmark {
    /// Both sides of a full handshake, including `split`, per second of one core.
    static func inMemoryPerSecond(seconds: Double) -> Double {
        let initiatorKey = Ed25519.SigningKey.generate(), responderKey = Ed25519.SigningKey.generate()
        let initiatorStatic = X25519.PrivateKey.generate(), responderStatic = X25519.PrivateKey.generate()
        return BenchHarness.rate(seconds: seconds) { _ in
            var i = NoiseHandshake(role: .initiator, networkID: "bench", identity: initiatorKey,
                                   localStatic: initiatorStatic, ephemeral: .generate())
            var r = NoiseHandshake(role: .responder, networkID: "bench", identity: responderKey,
                                   localStatic: responderStatic, ephemeral: .generate())
            do {
                try r.readMessage(try i.writeMessage())
                try i.readMessage(try r.writeMessage())
                try r.readMessage(try i.writeMessage())
                blackHole((try i.split(), try r.split()))
            } catch {
                fatalError("in-memory handshake failed: \(error)")  // both sides are ours: a bug, not input
            }
        }
    }

    /// `count` sequential handshakes with the node listening at `address`; returns handshakes per second.
    static func overTCP(to address: SocketAddress, networkID: String, count: Int) async throws -> Double {
        let loop = try EventLoop(name: "bench-handshakes")
        defer { loop.shutdown() }
        let start = ContinuousClock.now
        let outcome: Result<Void, LoopError> = await withCheckedContinuation { continuation in
            _ = loop.execute {
                HandshakeClient(loop: loop, address: address, networkID: networkID, remaining: count) {
                    continuation.resume(returning: $0)
                }.next()
            }
        }
        try outcome.get()
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    /// Runs handshakes one after another on its loop (loop-confined).
    final class HandshakeClient {
        let loop: EventLoop
        let address: SocketAddress
        let networkID: String
        let identity = Ed25519.SigningKey.generate()
        let noiseStatic = X25519.PrivateKey.generate()
        var remaining: Int
        let done: (Result<Void, LoopError>) -> Void

        init(loop: EventLoop, address: SocketAddress, networkID: String, remaining: Int, done: @escaping (Result<Void, LoopError>) -> Void) {
            self.loop = loop
            self.address = address
            self.networkID = networkID
            self.remaining = remaining
            self.done = done
        }

        func next() {
            guard remaining > 0 else { return done(.success(())) }
            remaining -= 1
            TCPConnection.connect(to: address, on: loop) { result in
                switch result {
                case let .failure(error): self.done(.failure(error))
                case let .success(connection): self.handshake(on: connection)
                }
            }
        }

        private func handshake(on connection: TCPConnection) {
            var handshake = NoiseHandshake(role: .initiator, networkID: networkID, identity: identity,
                                           localStatic: noiseStatic, ephemeral: .generate())
            var decoder = FrameDecoder()
            var finished = false
            connection.onRead = { chunk in
                guard !finished, let frames = try? decoder.feed(chunk), let message2 = frames.first else { return }
                do {
                    try handshake.readMessage(message2)
                    connection.write(FrameDecoder.frame(try handshake.writeMessage()))
                    blackHole(try handshake.split())
                    finished = true
                    connection.closeAfterFlushing(.requested("handshake measured"))
                } catch {
                    connection.close(.requested("handshake failed: \(error)"))
                }
            }
            connection.onClose = { reason in
                if finished { self.next() } else { self.done(.failure(LoopError(.closed, operation: "handshake", detail: "\(reason)"))) }
            }
            connection.startReading()
            do { connection.write(FrameDecoder.frame(try handshake.writeMessage())) } catch {
                connection.close(.requested("cannot write message 1: \(error)"))
            }
        }
    }
}
