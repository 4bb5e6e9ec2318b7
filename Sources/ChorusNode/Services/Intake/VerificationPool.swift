import ChorusCrypto
import Foundation

/// A fixed set of threads that decode, deduplicate and verify statements, so that no Ed25519
/// verification runs on the loop thread (where SWIM probes, keepalives and every session share it).
///
/// The queue is bounded in *cost* (statements): at most `maxQueued` in all and `maxQueuedPerPeer` for
/// any one peer, so a peer sending sync batches as fast as it can takes at most its share and a
/// full queue refuses work instead of growing (the caller drops it and counts it; anti-entropy
/// fetches what was dropped in a later round). Jobs run in submission order.
///
/// `@unchecked Sendable` invariant: `queue`, `queued`, `perPeer` and `stopped` are read and written
/// only while `condition` is locked; the threads hold the pool strongly until `shutdown`.
final class VerificationPool: @unchecked Sendable {
    struct Job {
        let cost: Int
        let peer: Ed25519.PublicKey?
        let work: @Sendable () -> Void
    }

    let threadCount: Int
    let maxQueued: Int
    let maxQueuedPerPeer: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var queued = 0
    private var perPeer: [Ed25519.PublicKey: Int] = [:]
    private var stopped = false

    /// - Parameter threads: defaults to the machine's active cores.
    init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, maxQueued: Int = 32_768, maxQueuedPerPeer: Int = 8_192) {
        self.threadCount = max(1, threads)
        self.maxQueued = max(1, maxQueued)
        self.maxQueuedPerPeer = max(1, min(maxQueuedPerPeer, maxQueued))
        for index in 0..<threadCount {
            let thread = Thread { [self] in run() }
            thread.name = "chorus-verify-\(index)"
            thread.start()
        }
    }

    /// Queues `work` (worth `cost` statements, for `peer` when it came from one). Returns false, and
    /// runs nothing, when the pool is stopped or the queue or the peer's share of it is full.
    func submit(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> Void) -> Bool {
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

    private func run() {
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
            job.work()
            condition.lock()
            queued -= job.cost
            if let peer = job.peer {
                let left = perPeer[peer, default: 0] - job.cost
                perPeer[peer] = left > 0 ? left : nil
            }
            condition.unlock()
        }
    }
}
