import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct UDPSocketTests {
    @Test func datagramsTravelBothWaysOverIPv4() async throws {
        try await withLoop { loop in
            let harness = UDPHarnessForTests(loop: loop)
            let (received, from, boundPort) = try await harness.exchange(.loopbackIPv4(port: 0), payload: [1, 2, 3, 4])
            #expect(received == [[1, 2, 3, 4], [4, 3, 2, 1]])
            #expect(from.map(\.port) == [boundPort.a, boundPort.b], "each side sees the other's bound port as the source")
            await harness.closeAll()
        }
    }

    @Test func datagramsTravelOverIPv6() async throws {
        try await withLoop { loop in
            let harness = UDPHarnessForTests(loop: loop)
            guard let (received, from, _) = try? await harness.exchange(.loopbackIPv6(port: 0), payload: Array(repeating: 7, count: 1200)) else {
                return  // no IPv6 loopback on this machine (some containers): nothing to test
            }
            #expect(received.first?.count == 1200)
            #expect(from.allSatisfy { $0.family == .ipv6 })
            await harness.closeAll()
        }
    }

    @Test func oversizedDatagramsAreDroppedAndCountedNotDeliveredInPart() async throws {
        try await withLoop { loop in
            let harness = UDPHarnessForTests(loop: loop)
            let (delivered, truncated) = try await harness.sendOversizedThenSmall(limit: 100)
            #expect(delivered == [[9]], "only the datagram within the limit arrives")
            #expect(truncated == 1)
            await harness.closeAll()
        }
    }

    @Test func bindingABusyPortFailsWithATypedError() async throws {
        try await withLoop { loop in
            let harness = UDPHarnessForTests(loop: loop)
            let error = await harness.bindTwice()
            #expect(error?.systemErrorName == "EADDRINUSE")
            await harness.closeAll()
        }
    }

    @Test func sendingToTheOtherFamilyOrAfterCloseFailsWithoutCrashing() async throws {
        try await withLoop { loop in
            let harness = UDPHarnessForTests(loop: loop)
            let failures = try await harness.sendsThatFail()
            #expect(failures == [false, false])
            await harness.closeAll()
        }
    }
}

/// Runs on the loop and drives UDP sockets for `UDPSocketTests`.
actor UDPHarnessForTests {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    private var sockets: [UDPSocket] = []

    init(loop: EventLoop) { self.loop = loop }

    /// Binds two sockets on `address`, sends `payload` a → b, b answers with it reversed.
    func exchange(_ address: SocketAddress, payload: [UInt8]) async throws -> ([[UInt8]], [SocketAddress], (a: UInt16, b: UInt16)) {
        var received: [[UInt8]] = []
        var from: [SocketAddress] = []
        var continuation: CheckedContinuation<Void, Never>?
        var b: UDPSocket!
        let a = try UDPSocket(bindingTo: address, on: loop) { bytes, source in
            received.append(bytes)
            from.append(source)
            continuation?.resume()
        }
        b = try UDPSocket(bindingTo: address, on: loop) { bytes, source in
            received.append(bytes)
            from.append(source)
            b.send(bytes.reversed(), to: source)
        }
        sockets += [a, b]
        await withCheckedContinuation { c in
            continuation = c
            a.send(payload, to: b.localAddress)
        }
        return (received, from, (a.localAddress.port, b.localAddress.port))
    }

    func sendOversizedThenSmall(limit: Int) async throws -> ([[UInt8]], Int) {
        var delivered: [[UInt8]] = []
        var continuation: CheckedContinuation<Void, Never>?
        let receiver = try UDPSocket(bindingTo: .loopbackIPv4(port: 0), on: loop, maxDatagramSize: limit) { bytes, _ in
            delivered.append(bytes)
            continuation?.resume()
        }
        let sender = try UDPSocket(bindingTo: .loopbackIPv4(port: 0), on: loop) { _, _ in }
        sockets += [receiver, sender]
        await withCheckedContinuation { c in
            continuation = c
            sender.send(Array(repeating: 1, count: limit + 1), to: receiver.localAddress)
            sender.send([9], to: receiver.localAddress)
        }
        return (delivered, receiver.truncatedDrops)
    }

    func bindTwice() -> LoopError? {
        do {
            let first = try UDPSocket(bindingTo: .loopbackIPv4(port: 0), on: loop) { _, _ in }
            sockets.append(first)
            let second = try UDPSocket(bindingTo: first.localAddress, on: loop) { _, _ in }
            sockets.append(second)
            return nil
        } catch {
            return error
        }
    }

    func sendsThatFail() throws -> [Bool] {
        let socket = try UDPSocket(bindingTo: .loopbackIPv4(port: 0), on: loop) { _, _ in }
        sockets.append(socket)
        let otherFamily = socket.send([1], to: .loopbackIPv6(port: 9))
        socket.close()
        let afterClose = socket.send([1], to: .loopbackIPv4(port: 9))
        return [otherFamily, afterClose]
    }

    func closeAll() {
        sockets.forEach { $0.close() }
        sockets = []
    }
}
