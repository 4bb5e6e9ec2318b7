import Synchronization
import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct ShutdownTests {
    @Test func shutdownWithLiveHandlesClosesThemAllFreesEverythingAndJoins() async throws {
        let blackHole = try UnacceptingListenerForTests()
        defer { blackHole.close() }
        let directory = try TemporaryDirectoryForTests()
        defer { directory.remove() }
        let loop = try EventLoop(name: "shutdown-test")
        let probe = ShutdownProbeForTests()
        let clients = 8

        await withCheckedContinuation { (ready: CheckedContinuation<Void, Never>) in
            loop.execute {
                ShutdownScenarioForTests(loop: loop, probe: probe, ready: ready).build(
                    clients: clients, blackHole: blackHole.address, socketPath: directory.file("s.sock"))
            }
        }
        loop.shutdown()

        // Every connection saw the shutdown: 8 TCP clients and their server ends, the Unix pair, and the
        // connection to the black hole whose writes were still queued.
        #expect(probe.closedByShutdown.load(ordering: .relaxed) == 2 * clients + 2 + 1)
        #expect(probe.closedOtherwise.load(ordering: .relaxed) == 0)
        #expect(probe.pendingConnectFailedWithShutdown.load(ordering: .relaxed) == 1)
        #expect(probe.queuedWritesCancelled.load(ordering: .relaxed) > 0)
        #expect(probe.queuedWritesFailedOtherwise.load(ordering: .relaxed) == 0)
        let jobRan = probe.jobFromCloseCallbackRan.load(ordering: .relaxed)
        let timerCreated = probe.timerFromCloseCallbackCreated.load(ordering: .relaxed)
        #expect(jobRan, "jobs submitted during shutdown still run")
        #expect(timerCreated, "a close callback opened a timer during shutdown")
        #expect(loop.openHandles.load(ordering: .relaxed) == 0, "every handle was closed and freed")
        #expect(probe.liveObjects() == 0, "no connection, listener or timer outlives the loop")
        #expect(FileFactsForTests.mode(of: directory.file("s.sock")) == nil, "the socket file was removed")
    }

    @Test func shutdownOfAnIdleLoopIsQuickAndClean() throws {
        let loop = try EventLoop()
        loop.shutdown()
        #expect(loop.openHandles.load(ordering: .relaxed) == 0)
    }
}

/// Counters written on the loop thread and read by the test after `shutdown()` joined that thread.
///
/// `@unchecked Sendable` invariant: `objects` is appended to only on the loop thread before shutdown
/// and read only after `shutdown()` returned (`pthread_join` orders the two); the rest are atomics.
final class ShutdownProbeForTests: @unchecked Sendable {
    let closedByShutdown = Atomic<Int>(0)
    let closedOtherwise = Atomic<Int>(0)
    let pendingConnectFailedWithShutdown = Atomic<Int>(0)
    let queuedWritesCancelled = Atomic<Int>(0)
    let queuedWritesFailedOtherwise = Atomic<Int>(0)
    let jobFromCloseCallbackRan = Atomic<Bool>(false)
    let timerFromCloseCallbackCreated = Atomic<Bool>(false)
    private var objects: [() -> AnyObject?] = []

    func watch(_ object: AnyObject) {
        objects.append { [weak object] in object }
    }

    func liveObjects() -> Int {
        objects.filter { $0() != nil }.count
    }

    func recordClose(_ reason: CloseReason) {
        if reason == .loopShutdown {
            closedByShutdown.add(1, ordering: .relaxed)
        } else {
            closedOtherwise.add(1, ordering: .relaxed)
        }
    }
}

/// Builds, on the loop thread, a loop full of live handles, keeping only weak references to them
/// (the handles themselves keep their owners alive), then resumes `ready`.
struct ShutdownScenarioForTests {
    let loop: EventLoop
    let probe: ShutdownProbeForTests
    let ready: CheckedContinuation<Void, Never>

    func build(clients: Int, blackHole: SocketAddress, socketPath: String) {
        var waitingFor = 2 * clients + 2 + 1  // TCP pairs, the Unix pair, the filled black-hole connection
        let oneReady = {
            waitingFor -= 1
            if waitingFor == 0 { ready.resume() }
        }
        let watchConnection = { (connection: StreamConnection) in
            probe.watch(connection)
            connection.onClose = { [probe] in probe.recordClose($0) }
            connection.onRead = { _ in }
            connection.startReading()
            oneReady()
        }

        do {
            let tcp = try TCPListener(bindingTo: .loopbackIPv4(port: 0), on: loop) { watchConnection($0) }
            let unix = try UnixListener(path: socketPath, on: loop) { watchConnection($0) }
            probe.watch(tcp)
            probe.watch(unix)
            for index in 0..<clients {
                TCPConnection.connect(to: tcp.localAddress, on: loop, timeout: .seconds(60)) { result in
                    guard case let .success(connection) = result else { return }
                    watchConnection(connection)
                    connection.write(patternBytes(1000))
                    if index == 0 { reactToShutdownWithMoreWork(connection) }
                }
            }
            UnixConnection.connect(path: socketPath, on: loop, timeout: .seconds(60)) { result in
                if case let .success(connection) = result { watchConnection(connection) }
            }
        } catch {
            Issue.record("setting up listeners failed: \(error)")
        }

        let ticker = LoopTimer(on: loop)
        ticker.schedule(after: .milliseconds(1), repeatingEvery: .milliseconds(1)) {}
        probe.watch(ticker)

        // The black hole accepts one connection into its queue and then drops SYNs: the first connect
        // succeeds (its writes queue up, nobody reads), the second stays pending until shutdown.
        TCPConnection.connect(to: blackHole, on: loop, timeout: .seconds(60)) { [probe] result in
            guard case let .success(connection) = result else { return }
            probe.watch(connection)
            connection.onClose = { probe.recordClose($0) }
            connection.writeWatermarks = WriteWatermarks(low: 0, high: 64 * 1024)
            // Keep writing whenever writable: at any quiet moment more than 64 KiB then wait unsent.
            let chunk = patternBytes(16 * 1024)
            let fill = {
                while connection.isWritable {
                    connection.write(chunk) { result in
                        if case .failure(let error) = result, error.code == .loopShutDown {
                            probe.queuedWritesCancelled.add(1, ordering: .relaxed)
                        } else if case .failure = result {
                            probe.queuedWritesFailedOtherwise.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            connection.onWritabilityChanged = { if $0 { fill() } }
            fill()
            TCPConnection.connect(to: blackHole, on: loop, timeout: .seconds(60)) { result in
                if case .failure(let error) = result, error.code == .loopShutDown {
                    probe.pendingConnectFailedWithShutdown.add(1, ordering: .relaxed)
                }
            }
            oneReady()
        }
    }

    /// On shutdown this connection's close callback submits a job and opens a new timer: shutdown must
    /// run the job and close the timer too.
    private func reactToShutdownWithMoreWork(_ connection: StreamConnection) {
        connection.onClose = { [loop, probe] reason in
            probe.recordClose(reason)
            loop.execute { probe.jobFromCloseCallbackRan.store(true, ordering: .relaxed) }
            let reconnectTimer = LoopTimer(on: loop)
            reconnectTimer.schedule(after: .seconds(30)) {}
            probe.watch(reconnectTimer)
            probe.timerFromCloseCallbackCreated.store(true, ordering: .relaxed)
        }
    }
}
