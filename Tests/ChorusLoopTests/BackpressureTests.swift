import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct BackpressureTests {
    @Test func writerSeesHighWatermarkWhileReaderIsPausedThenDrains() async throws {
        try await withLoop { loop in
            let outcome = try await BackpressureHarnessForTests(loop: loop).fillWhileReaderPausedThenDrain()
            // Alternating signals, starting and (once the reader drained everything) ending the right way.
            #expect(outcome.transitions.first == false)
            #expect(outcome.transitions.last == true)
            #expect(zip(outcome.transitions, outcome.transitions.dropFirst()).allSatisfy { $0 != $1 })
            // The kernel buffers are full, so the bytes it refused wait in the queue, above the low mark.
            #expect(outcome.queuedWhenUnwritable > 256 * 1024)
            #expect(outcome.received == outcome.written)
            #expect(outcome.queuedAtEnd == 0)
        }
    }

    @Test func pausedReaderReceivesNothingUntilResumed() async throws {
        try await withLoop { loop in
            let outcome = try await BackpressureHarnessForTests(loop: loop).pauseAfterFirstChunk(sending: 512 * 1024)
            #expect(outcome.chunksWhilePaused == 1, "no read callback while reading is stopped")
            #expect(outcome.bytesWhilePaused < 512 * 1024)
            #expect(outcome.received == patternBytes(512 * 1024))
        }
    }
}

/// What `fillWhileReaderPausedThenDrain` observed.
struct BackpressureOutcomeForTests: Sendable {
    var transitions: [Bool] = []
    var queuedWhenUnwritable = 0
    var written = 0
    var received = 0
    var queuedAtEnd = -1
}

/// What `pauseAfterFirstChunk` observed.
struct PausedReadOutcomeForTests: Sendable {
    var chunksWhilePaused = 0
    var bytesWhilePaused = 0
    var received: [UInt8] = []
}

/// Runs on the loop: a client and server connection pair for backpressure scenarios.
actor BackpressureHarnessForTests {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    init(loop: EventLoop) { self.loop = loop }

    /// Connects a client to a fresh listener; returns both ends (the server end not yet reading).
    private func connectedPair() async throws -> (client: TCPConnection, server: TCPConnection, listener: TCPListener) {
        // Connections cannot be `sent` through a continuation; `LoopBound` carries them (loop to loop).
        var acceptedContinuation: CheckedContinuation<LoopBound<TCPConnection>, Never>?
        var acceptedEarly: TCPConnection?
        let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0), on: loop) { [loop] connection in
            if let acceptedContinuation {
                acceptedContinuation.resume(returning: LoopBound(connection, loop: loop))
            } else {
                acceptedEarly = connection
            }
        }
        let client = try await TCPConnection.connect(to: listener.localAddress, on: loop)
        let server: TCPConnection
        if let acceptedEarly {
            server = acceptedEarly
        } else {
            server = await withCheckedContinuation { acceptedContinuation = $0 }.value
        }
        return (client, server, listener)
    }

    func fillWhileReaderPausedThenDrain() async throws -> BackpressureOutcomeForTests {
        let (client, server, listener) = try await connectedPair()
        defer {
            listener.close()
            client.close(.requested("test finished"))
            server.close(.requested("test finished"))
        }
        var outcome = BackpressureOutcomeForTests()
        client.writeWatermarks = WriteWatermarks(low: 256 * 1024, high: 1 << 20)

        // The server is not reading. Write whenever the client is writable (each burst ends above the
        // 1 MiB high mark) until the kernel buffers are full and the queue no longer drains to the low
        // mark: no "writable" signal for 50 ms.
        let chunk = patternBytes(64 * 1024)
        let fill = {
            while client.isWritable, outcome.written < 256 << 20 {
                client.write(chunk)
                outcome.written += chunk.count
            }
        }
        let quiet = LoopTimer(on: loop)
        defer { quiet.close() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeWhenQuiet = { quiet.schedule(after: .milliseconds(50)) { continuation.resume() } }
            client.onWritabilityChanged = { writable in
                outcome.transitions.append(writable)
                if writable { fill() }
                resumeWhenQuiet()
            }
            fill()
            resumeWhenQuiet()
        }
        outcome.queuedWhenUnwritable = client.writeQueueSize
        #expect(outcome.transitions.last == false)

        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            var resumed = false
            let finishIfDrained = {
                if !resumed, outcome.received == outcome.written, client.isWritable {
                    resumed = true
                    continuation.resume()
                }
            }
            client.onWritabilityChanged = {
                outcome.transitions.append($0)
                finishIfDrained()
            }
            server.onRead = {
                outcome.received += $0.count
                finishIfDrained()
            }
            server.startReading()
        }
        outcome.queuedAtEnd = client.writeQueueSize
        return outcome
    }

    func pauseAfterFirstChunk(sending count: Int) async throws -> PausedReadOutcomeForTests {
        let (client, server, listener) = try await connectedPair()
        defer {
            listener.close()
            client.close(.requested("test finished"))
            server.close(.requested("test finished"))
        }
        var outcome = PausedReadOutcomeForTests()
        var chunks = 0
        server.onRead = { bytes in
            chunks += 1
            outcome.received += bytes
            if chunks == 1 { server.stopReading() }
        }
        server.startReading()
        client.write(patternBytes(count))

        // Give the loop time to deliver more, were reading not stopped.
        let timer = LoopTimer(on: loop)
        defer { timer.close() }
        await withCheckedContinuation { continuation in
            timer.schedule(after: .milliseconds(30)) { continuation.resume() }
        }
        outcome.chunksWhilePaused = chunks
        outcome.bytesWhilePaused = outcome.received.count

        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            server.onRead = { bytes in
                outcome.received += bytes
                if outcome.received.count == count { continuation.resume() }
            }
            server.startReading()
        }
        return outcome
    }
}
