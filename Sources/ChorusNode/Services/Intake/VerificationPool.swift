import ChorusCrypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads that decode, deduplicate and verify statements, so that no Ed25519
/// verification runs on the loop thread (where SWIM probes, keepalives and every session share it).
///
/// The queue is bounded in *cost* (statements): at most `maxQueued` in all and `maxQueuedPerPeer` for
/// any one peer, so a peer sending sync batches as fast as it can takes at most its share and a
/// full queue refuses work instead of growing (the caller drops it and counts it; anti-entropy
/// fetches what was dropped in a later round). Jobs run in submission order.
///
/// The threads run at a lower scheduling priority (nice +`niceness`) than the loop: with as many
/// threads as cores, the loop thread would otherwise wait for a core behind verification, and SWIM
/// probes and keepalives with it (measured by `chorus-bench ingest`, `loop_lag_p99_ms`).
///
/// `@unchecked Sendable` invariant: `queue`, `queued`, `perPeer` and `stopped` are read and written
/// only while `condition` is locked; the threads hold the pool strongly until `shutdown`.
final class VerificationPool: @unchecked Sendable {
    struct Job {
        let cost: Int
        let peer: Ed25519.PublicKey?
        let work: @Sendable () -> (@Sendable () -> Void)?
    }

    /// How much lower than the loop's the threads' priority is (Linux per-thread nice).
    static let niceness: Int32 = 10
    let maxQueued: Int
    let maxQueuedPerPeer: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var queued = 0
    private var perPeer: [Ed25519.PublicKey: Int] = [:]
    private var stopped = false

    /// Statements queued at most by default: eight 4,096-statement sync batches.
    static let defaultMaxQueued = 32_768
    /// One peer's share by default: two sync batches (one verifying, the next waiting).
    static let defaultMaxQueuedPerPeer = 8_192

    /// - Parameter threads: defaults to the machine's active cores.
    init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, maxQueued: Int = defaultMaxQueued,
         maxQueuedPerPeer: Int = defaultMaxQueuedPerPeer) {
        self.maxQueued = max(1, maxQueued)
        self.maxQueuedPerPeer = max(1, min(maxQueuedPerPeer, maxQueued))
        for index in 0..<max(1, threads) {
            Thread { [self] in run(name: "chorus-verify-\(index)") }.start()
        }
    }

    /// Queues `work` (worth `cost` statements, for `peer` when it came from one). Returns false, and
    /// runs nothing, when the pool is stopped or the queue or the peer's share of it is full. What
    /// `work` returns runs after its cost left the queue: a completion that reads `queuedCost`
    /// (back-pressure) then sees the queue without this job.
    func submit(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> (@Sendable () -> Void)?) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, queued + cost <= maxQueued else { return false }
        if let peer {
            let share = perPeer[peer, default: 0]
            guard share + cost <= maxQueuedPerPeer else { return false }
            perPeer[peer] = share + cost
        }
        queued += cost
        queue.append(Job(cost: cost, peer: peer, work: work))
        condition.signal()
        return true
    }

    /// Statements queued or being verified for `peer`.
    func queuedCost(of peer: Ed25519.PublicKey) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return perPeer[peer, default: 0]
    }

    /// Statements queued or being verified in all.
    var queuedCost: Int {
        condition.lock()
        defer { condition.unlock() }
        return queued
    }

    /// Stops the threads after the jobs they are running; queued jobs are dropped.
    func shutdown() {
        condition.lock()
        stopped = true
        queue = []
        head = 0
        condition.broadcast()
        condition.unlock()
    }

    private func run(name: String) {
        #if os(Linux)
        // Named by the thread itself through /proc (top -H, debuggers): a new Linux thread starts
        // with its creator's name, and Foundation's `Thread.name` does not always reach the OS
        // thread (pthread_setname_np and prctl are not visible to Swift here).
        try? Data(name.utf8.prefix(15)).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
        // Under Linux/NPTL the nice value is per thread, and `who = 0` names the calling thread
        // (setpriority(2), NOTES): this lowers the priority of this thread only.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        #endif
        while true {
            condition.lock()
            while head == queue.count && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            let job = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            let completion = job.work()
            condition.lock()
            queued -= job.cost
            if let peer = job.peer {
                let left = perPeer[peer, default: 0] - job.cost
                perPeer[peer] = left > 0 ? left : nil
            }
            condition.unlock()
            completion?()
        }
    }
}
