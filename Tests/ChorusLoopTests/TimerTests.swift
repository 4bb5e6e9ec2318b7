import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct TimerTests {
    @Test func timersFireInDeadlineOrderThenSchedulingOrder() async throws {
        try await withLoop { loop in
            let order = await TimerHarnessForTests(loop: loop).fireOneShots(delaysInMilliseconds: [60, 20, 40, 0, 20])
            // 0 ms first; the two 20 ms timers in the order they were scheduled; then 40 and 60 ms.
            #expect(order == [3, 1, 4, 2, 0])
        }
    }

    @Test func repeatingTimerFiresUntilCancelled() async throws {
        try await withLoop { loop in
            let (fires, firesAfterCancel) = await TimerHarnessForTests(loop: loop).repeatThenCancel(after: 5)
            #expect(fires == 5)
            #expect(firesAfterCancel == 5, "a cancelled timer never fires again")
        }
    }

    @Test func cancelledTimerNeverFiresAndCanBeRescheduled() async throws {
        try await withLoop { loop in
            let outcome = await TimerHarnessForTests(loop: loop).cancelThenReschedule()
            #expect(outcome == ["rescheduled"])
        }
    }

    @Test func delaysRoundUpToWholeMilliseconds() {
        #expect(LoopTimer.milliseconds(roundingUp: .zero) == 0)
        #expect(LoopTimer.milliseconds(roundingUp: .nanoseconds(1)) == 1)
        #expect(LoopTimer.milliseconds(roundingUp: .microseconds(1500)) == 2)
        #expect(LoopTimer.milliseconds(roundingUp: .milliseconds(7)) == 7)
        #expect(LoopTimer.milliseconds(roundingUp: .seconds(3)) == 3000)
        #expect(LoopTimer.milliseconds(roundingUp: .milliseconds(-5)) == 0)
        #expect(LoopTimer.milliseconds(roundingUp: .seconds(Int64.max)) == UInt64.max)
    }
}

/// Runs on the loop and drives timers for `TimerTests`.
actor TimerHarnessForTests {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    init(loop: EventLoop) { self.loop = loop }

    /// Schedules one one-shot timer per delay (labelled by index) and returns the labels in firing order.
    func fireOneShots(delaysInMilliseconds delays: [Int]) async -> [Int] {
        await withCheckedContinuation { continuation in
            var order: [Int] = []
            for (label, delay) in delays.enumerated() {
                let timer = LoopTimer(on: loop)
                timer.schedule(after: .milliseconds(delay)) {
                    order.append(label)
                    timer.close()
                    if order.count == delays.count { continuation.resume(returning: order) }
                }
            }
        }
    }

    /// A 1 ms repeating timer that cancels itself on its `limit`-th call; returns the count then, and
    /// again after waiting 20 ms more with another timer.
    func repeatThenCancel(after limit: Int) async -> (Int, Int) {
        let ticker = LoopTimer(on: loop)
        defer { ticker.close() }
        var fires = 0
        let atCancel: Int = await withCheckedContinuation { continuation in
            ticker.schedule(after: .milliseconds(1), repeatingEvery: .milliseconds(1)) {
                fires += 1
                if fires == limit {
                    ticker.cancel()
                    continuation.resume(returning: fires)
                }
            }
        }
        await sleep(.milliseconds(20))
        #expect(!ticker.isScheduled)
        return (atCancel, fires)
    }

    /// Schedules, cancels, then schedules again with another handler; returns which handlers ran.
    func cancelThenReschedule() async -> [String] {
        let timer = LoopTimer(on: loop)
        defer { timer.close() }
        var ran: [String] = []
        timer.schedule(after: .milliseconds(5)) { ran.append("cancelled") }
        timer.cancel()
        await withCheckedContinuation { continuation in
            timer.schedule(after: .milliseconds(10)) {
                ran.append("rescheduled")
                continuation.resume()
            }
        }
        await sleep(.milliseconds(10))
        return ran
    }

    /// Waits on the loop's own timer (not `Task.sleep`, which would involve another clock and executor).
    private func sleep(_ duration: Duration) async {
        let timer = LoopTimer(on: loop)
        await withCheckedContinuation { continuation in
            timer.schedule(after: duration) { continuation.resume() }
        }
        timer.close()
    }
}
