import Dispatch
import Synchronization
import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct EventLoopTests {
    @Test func executeFromManyThreadsRunsEveryJobInOrderPerThread() async throws {
        try await withLoop { loop in
            let threads = 8
            let jobsPerThread = 500
            // Per producer thread, the job indices in the order the loop ran them.
            let seen = try await loop.run { LoopBound([[Int]](repeating: [], count: threads), loop: loop) }
            let offLoop = try await loop.run { LoopBound(0, loop: loop) }
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                #expect(!loop.isInLoopThread)
                for index in 0..<jobsPerThread {
                    let accepted = loop.execute {
                        if !loop.isInLoopThread { offLoop.value += 1 }
                        seen.value[thread].append(index)
                    }
                    #expect(accepted)
                }
            }
            let (orders, wrongThread) = try await loop.run { (seen.value, offLoop.value) }
            #expect(wrongThread == 0)
            for order in orders {
                #expect(order == Array(0..<jobsPerThread), "jobs from one thread run in submission order")
            }
        }
    }

    @Test func runFromManyTasksReturnsEachResult() async throws {
        try await withLoop { loop in
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        var sum = 0
                        for step in 0..<100 {
                            sum += try await loop.run { loop.isInLoopThread ? task * 1000 + step : -1_000_000 }
                        }
                        return sum
                    }
                }
                return try await group.reduce(0, +)
            }
            // Σ over tasks of (100 · 1000 · task + Σ steps) = 100·1000·120 + 16·4950
            #expect(total == 12_000_000 + 79_200)
        }
    }

    @Test func throwingRunRethrowsTheBodyError() async throws {
        struct Refused: Error, Equatable {}
        try await withLoop { loop in
            await #expect(throws: Refused.self) {
                _ = try await loop.run { () throws -> Int in throw Refused() }
            }
        }
    }

    @Test func actorBoundToTheLoopRunsOnTheLoopThread() async throws {
        try await withLoop { loop in
            let counter = LoopCounterForTests(loop: loop)
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<1000 {
                    group.addTask { await counter.increment() }
                }
            }
            let (count, offLoop) = await counter.snapshot()
            #expect(count == 1000)
            #expect(offLoop == 0)
        }
    }

    @Test func timerCallbackEntersTheActorWithAssumeIsolated() async throws {
        try await withLoop { loop in
            let counter = LoopCounterForTests(loop: loop)
            let fired = await counter.incrementFromATimerCallback()
            #expect(fired == 1)
        }
    }

    @Test func isInLoopThreadIsFalseElsewhere() async throws {
        try await withLoop { loop in
            #expect(!loop.isInLoopThread)
            #expect(try await loop.run { loop.isInLoopThread })
            let other = try EventLoop(name: "other")
            defer { other.shutdown() }
            #expect(try await other.run { !loop.isInLoopThread && other.isInLoopThread })
        }
    }

    @Test func jobsAcceptedBeforeShutdownAllRun() async throws {
        let loop = try EventLoop()
        let ran = Atomic<Int>(0)
        for _ in 0..<1000 {
            loop.execute { ran.add(1, ordering: .relaxed) }
        }
        loop.shutdown()
        #expect(ran.load(ordering: .relaxed) == 1000)
        #expect(loop.openHandles.load(ordering: .relaxed) == 0)
    }

    @Test func shutdownIsIdempotentAndLaterJobsAreRejected() async throws {
        let loop = try EventLoop()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in loop.shutdown() }
        loop.shutdown()
        #expect(!loop.execute {})
        #expect(loop.rejectedJobCount == 1)
        let error = await #expect(throws: LoopError.self) { try await loop.run { 1 } }
        #expect(error?.code == .loopShutDown)
    }

    @Test func shutdownCalledOnTheLoopThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            let loop = try EventLoop()
            try await loop.run { loop.shutdown() }
        }
    }

    @Test func loopBoundValueUsedOffTheLoopTraps() async {
        await #expect(processExitsWith: .failure) {
            let loop = try EventLoop()
            let box = try await loop.run { LoopBound(1, loop: loop) }
            _ = box.value
        }
    }

    @Test func twoLoopsInOneProcessTalkOverTCP() async throws {
        try await withLoop("server-loop") { serverLoop in
            try await withLoop("client-loop") { clientLoop in
                let server = LoopHarnessForTests(loop: serverLoop)
                let client = LoopHarnessForTests(loop: clientLoop)
                let address = try await server.startTCPEchoServer(at: .loopbackIPv4(port: 0))
                let payload = patternBytes(256 * 1024)
                #expect(try await client.echoTCP(payload, via: address) == payload)
                #expect(await server.acceptedCount == 1)
            }
        }
    }
}

/// An actor whose executor is the loop; counts calls and calls that ran off the loop thread.
actor LoopCounterForTests {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    private var count = 0
    private var offLoop = 0

    init(loop: EventLoop) { self.loop = loop }

    func increment() {
        if !loop.isInLoopThread { offLoop += 1 }
        loop.preconditionInLoop()
        count += 1
    }

    func snapshot() -> (Int, Int) { (count, offLoop) }

    /// A timer created from a plain `execute` job (not actor-isolated) whose callback enters the actor
    /// synchronously with `assumeIsolated`, as ChorusNode's libuv callbacks do.
    func incrementFromATimerCallback() async -> Int {
        count = 0
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute { [loop] in
                let timer = LoopTimer(on: loop)
                timer.schedule(after: .milliseconds(1)) {
                    self.assumeIsolated { counter in counter.count += 1 }
                    timer.close()
                    continuation.resume()
                }
            }
        }
        return count
    }
}
