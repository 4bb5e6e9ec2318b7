import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct TCPTests {
    @Test(arguments: [SocketAddress.loopbackIPv4(port: 0), SocketAddress.loopbackIPv6(port: 0)])
    func echoOverLoopback(listenOn requested: SocketAddress) async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let server = try await harness.startTCPEchoServer(at: requested)
            #expect(server.port != 0, "port 0 must report the port actually bound")
            #expect(server.family == requested.family)
            #expect(server.host == requested.host)

            let connection = try await harness.connectTCP(to: server)
            let (local, peer) = await harness.addresses(ofClient: connection)
            #expect(peer == server)
            let payload = patternBytes(1 << 20)  // several reads and writes on each side
            let echoed = try await harness.roundTrip(payload, over: connection)
            #expect(echoed == payload)
            #expect(await harness.acceptedPeerAddress(0) == local, "the server sees the client's own address")
        }
    }

    @Test func manyConcurrentConnections() async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let server = try await harness.startTCPEchoServer(at: .loopbackIPv4(port: 0))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let payload = patternBytes(4096, seed: UInt8(truncatingIfNeeded: index))
                        return try await harness.echoTCP(payload, via: server) == payload
                    }
                }
                var succeeded = 0
                for try await ok in group where ok { succeeded += 1 }
                #expect(succeeded == 100)
            }
            #expect(await harness.acceptedCount == 100)
        }
    }

    @Test func connectRefusedReportsTheSystemError() async throws {
        try await withLoop { loop in
            let port = try UnacceptingListenerForTests.unusedPort()
            let harness = LoopHarnessForTests(loop: loop)
            let error = await #expect(throws: LoopError.self) {
                _ = try await harness.connectTCP(to: .loopbackIPv4(port: port))
            }
            #expect(error?.systemErrorName == "ECONNREFUSED")
            #expect(error?.description.contains("127.0.0.1:\(port)") == true)
        }
    }

    @Test func connectTimesOut() async throws {
        // A listener with backlog 0 that never accepts: the first connection fills its queue and the
        // kernel drops the next SYN, so the second connect hangs until our timeout.
        let blackHole = try UnacceptingListenerForTests()
        defer { blackHole.close() }
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let first = try await harness.connectTCP(to: blackHole.address)
            let start = ContinuousClock.now
            let error = await #expect(throws: LoopError.self) {
                _ = try await harness.connectTCP(to: blackHole.address, timeout: .milliseconds(200))
            }
            #expect(error?.code == .timedOut)
            // libuv's clock counts whole milliseconds, so the timer may fire up to 1 ms early.
            #expect(ContinuousClock.now - start >= .milliseconds(199))
            await harness.close(client: first)
        }
    }

    @Test func bindingABoundPortReportsAddressInUse() async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let server = try await harness.startTCPEchoServer(at: .loopbackIPv4(port: 0))
            let error = await #expect(throws: LoopError.self) {
                _ = try await harness.startTCPEchoServer(at: server)
            }
            #expect(error?.systemErrorName == "EADDRINUSE")
        }
    }

    @Test func closeAfterFlushingDeliversEverythingThenEndOfStream() async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let payload = patternBytes(1 << 20)
            let (received, reason) = try await harness.sendThenCloseAfterFlushing(payload)
            #expect(received == payload)
            #expect(reason == .peerClosed)
        }
    }

    @Test func burstOfSmallWritesArrivesAndCompletesInOrder() async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let server = try await harness.startTCPEchoServer(at: .loopbackIPv4(port: 0))
            let client = try await harness.connectTCP(to: server)
            let (echoed, completions) = try await harness.burst(messages: 1000, over: client)
            #expect(echoed == (0..<1000).flatMap { patternBytes(7, seed: UInt8(truncatingIfNeeded: $0)) })
            #expect(completions == Array(0..<1000), "every write completed, in write order")
        }
    }

    @Test func writesStillUnsentWhenTheConnectionClosesFailBeforeOnClose() async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let server = try await harness.startTCPEchoServer(at: .loopbackIPv4(port: 0))
            let client = try await harness.connectTCP(to: server)
            let events = await harness.writeThenCloseInOneTurn(client)
            #expect(
                events == ["write 0: closed", "write 1: closed", "write 2: closed", "onClose: closed locally: test"])
        }
    }

    @Test func writeAfterCloseFailsWithClosed() async throws {
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let server = try await harness.startTCPEchoServer(at: .loopbackIPv4(port: 0))
            let connection = try await harness.connectTCP(to: server)
            let result = await harness.writeAfterClose(connection)
            #expect(result?.code == .closed)
        }
    }
}

extension LoopHarnessForTests {
    /// Closes client `id`, then writes: the completion must report `.closed` before `write` returns.
    func writeAfterClose(_ id: Int) -> LoopError? {
        let connection = client(id)
        connection.close(.requested("test"))
        var failure: LoopError?
        connection.write([1, 2, 3]) { result in
            if case let .failure(error) = result { failure = error }
        }
        return failure
    }

    /// Writes `messages` small messages in one turn, each with a completion; returns the echo and the
    /// order in which the completions ran.
    func burst(messages: Int, over id: Int) async throws -> ([UInt8], [Int]) {
        let connection = client(id)
        var completions: [Int] = []
        var expected = 0
        var payloads: [[UInt8]] = []
        for index in 0..<messages {
            let payload = patternBytes(7, seed: UInt8(truncatingIfNeeded: index))
            payloads.append(payload)
            expected += payload.count
        }
        let echoed: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            var received: [UInt8] = []
            connection.onRead = { bytes in
                received += bytes
                if received.count == expected { continuation.resume(returning: received) }
            }
            connection.onClose = {
                continuation.resume(throwing: ConnectionEndedForTests(reason: $0, received: received.count))
            }
            connection.startReading()
            for (index, payload) in payloads.enumerated() {
                connection.write(payload) { if case .success = $0 { completions.append(index) } }
            }
        }
        connection.onClose = nil
        connection.close(.requested("test finished"))
        return (echoed, completions)
    }

    /// Writes three times and closes in the same turn: the writes never reached libuv.
    func writeThenCloseInOneTurn(_ id: Int) async -> [String] {
        let connection = client(id)
        return await withCheckedContinuation { continuation in
            var events: [String] = []
            for index in 0..<3 {
                connection.write([UInt8(index)]) { result in
                    if case let .failure(error) = result { events.append("write \(index): \(error.code)") }
                }
            }
            connection.onClose = { reason in
                events.append("onClose: \(reason)")
                continuation.resume(returning: events)
            }
            connection.close(.requested("test"))
        }
    }

    /// A server that sends `payload` to the first client and then `closeAfterFlushing`; returns what
    /// the client read and why its connection closed.
    func sendThenCloseAfterFlushing(_ payload: [UInt8]) async throws -> ([UInt8], CloseReason) {
        let listener = try TCPListener(bindingTo: .loopbackIPv4(port: 0), on: loop) { connection in
            connection.write(payload)
            connection.closeAfterFlushing(.requested("sent everything"))
        }
        defer { listener.close() }
        let client = try await TCPConnection.connect(to: listener.localAddress, on: loop)
        return await withCheckedContinuation { continuation in
            var received: [UInt8] = []
            client.onRead = { received += $0 }
            client.onClose = { continuation.resume(returning: (received, $0)) }
            client.startReading()
        }
    }
}
