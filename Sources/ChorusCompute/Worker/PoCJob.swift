import ChorusWorkerAPI
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts interactive requests (generate, score, verify) in flight, so PoC batches wait for them:
/// Specs/worker.md §7 gives inference priority over background PoC generation.
final class InteractiveGate: Sendable {
    private let active = Atomic<Int>(0)

    func enter() { active.add(1, ordering: .sequentiallyConsistent) }
    func leave() { active.subtract(1, ordering: .sequentiallyConsistent) }
    var busy: Bool { active.load(ordering: .sequentiallyConsistent) > 0 }
}

/// A background PoC job: computes batches of its nonce schedule on its own thread and keeps them
/// until the node acknowledges them by pulling past them (Specs/worker.md §5).
///
/// Thread safety: `Sendable`; all mutable state is inside one mutex. The job thread only appends
/// batches and updates counters; pulls only read and drop acknowledged batches.
final class PoCJob: Sendable {
    enum Phase: String, Sendable { case running, done, stopped, failed }

    struct State {
        var phase: Phase = .running
        var error: String?
        var nextIndex: UInt64 = 0
        var noncesDone: UInt64 = 0
        var artifactsTotal: UInt64 = 0
        var skippedTotal: UInt64 = 0
        var batches: [ArtifactBatchMessage] = []
        var lastSeq: UInt64 = 0
        var backlog = 0
        var computeSeconds = 0.0
        var finished: Double?
        var stopRequested = false
        var threadExited = false
        /// When a client last pulled (or the job started): a full backlog nobody pulls for
        /// `abandonAfter` is dropped and the job stopped.
        var lastPull = ContinuousClock.now
    }

    /// A job whose backlog is full and that nobody pulls for this long is abandoned: its artifacts
    /// are dropped and it stops, so jobs started and forgotten do not pin memory (Specs/worker.md §5).
    let abandonAfter: Duration

    let id: String
    let request: PoCJobRequest
    let computer: PoCComputer
    let schedule: NonceSchedule
    let batchSize: Int
    let maxBacklog: Int
    let created: Double
    private let gate: InteractiveGate
    private let state = Mutex(State())

    init(id: String, request: PoCJobRequest, computer: PoCComputer, schedule: NonceSchedule, batchSize: Int,
         maxBacklog: Int, gate: InteractiveGate, abandonAfter: Duration = .seconds(120)) {
        self.abandonAfter = abandonAfter
        self.id = id
        self.request = request
        self.computer = computer
        self.schedule = schedule
        self.batchSize = batchSize
        self.maxBacklog = maxBacklog
        self.gate = gate
        created = WallClock.now()
    }

    var modelID: String { computer.task.modelID }
    var isRunning: Bool { state.withLock { $0.phase == .running } }

    /// Starts the job's thread (its own OS thread: the work is blocking and long; see `DedicatedThread`).
    func start() {
        DedicatedThread.start { self.run() }
    }

    private func run() {
        defer { state.withLock { $0.threadExited = true } }
        let clock = ContinuousClock()
        while true {
            enum Step { case stop, abandoned, wait, compute([UInt64]), finish }
            let step: Step = state.withLock { s in
                if s.stopRequested { return .stop }
                if s.backlog >= maxBacklog {
                    guard s.lastPull.duration(to: .now) < abandonAfter else {
                        s.batches = []
                        s.backlog = 0
                        s.error = "abandoned: the backlog was full and nobody pulled artifacts for \(abandonAfter)"
                        return .abandoned
                    }
                    return .wait
                }
                if gate.busy { return .wait }
                let nonces = schedule.nonces(from: s.nextIndex, limit: batchSize)
                return nonces.isEmpty ? .finish : .compute(nonces)
            }
            switch step {
            case .stop, .abandoned:
                finish(.stopped)
                return
            case .finish:
                finish(.done)
                return
            case .wait:
                usleep(1_000)
            case let .compute(nonces):
                do throws(ComputeError) {
                    let start = clock.now
                    let vectors = try computer.compute(nonces)
                    let elapsed = start.duration(to: clock.now)
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                    state.withLock { s in
                        var artifacts: [ArtifactMessage] = []
                        var skipped: [UInt64] = []
                        for (n, v) in zip(nonces, vectors) {
                            if let v { artifacts.append(ArtifactMessage(nonce: n, vector: v.hex)) } else { skipped.append(n) }
                        }
                        s.lastSeq += 1
                        s.batches.append(ArtifactBatchMessage(seq: s.lastSeq, artifacts: artifacts, skipped: skipped))
                        s.nextIndex += UInt64(nonces.count)
                        s.noncesDone += UInt64(nonces.count)
                        s.artifactsTotal += UInt64(artifacts.count)
                        s.skippedTotal += UInt64(skipped.count)
                        s.backlog += artifacts.count
                        s.computeSeconds += seconds
                    }
                } catch {
                    state.withLock { $0.error = "\(error)" }
                    finish(.failed)
                    return
                }
            }
        }
    }

    private func finish(_ phase: Phase) {
        state.withLock { s in
            s.phase = phase
            s.finished = WallClock.now()
        }
    }

    /// Asks the job to stop after its current batch; returns whether it was running.
    @discardableResult
    func requestStop() -> Bool {
        state.withLock { s in
            guard s.phase == .running else { return false }
            s.stopRequested = true
            return true
        }
    }

    /// Waits until the job's thread has finished its current batch and exited.
    func waitUntilIdle() async {
        while !state.withLock({ $0.threadExited }) {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Drops batches up to `after` (acknowledged) and returns up to `limit` newer ones.
    func pull(after: UInt64, limit: Int) -> (status: JobStatusMessage, batches: [ArtifactBatchMessage]) {
        state.withLock { s in
            s.lastPull = .now
            while let first = s.batches.first, first.seq <= after {
                s.backlog -= first.artifacts.count
                s.batches.removeFirst()
            }
            return (status(s), Array(s.batches.prefix(limit)))
        }
    }

    /// True when a batch newer than `after` exists or no more will come.
    func hasNews(after: UInt64) -> Bool {
        state.withLock { s in s.lastSeq > after || s.phase != .running }
    }

    var status: JobStatusMessage { state.withLock { status($0) } }

    private func status(_ s: State) -> JobStatusMessage {
        JobStatusMessage(
            id: id, state: s.phase.rawValue, error: s.error, model: modelID, spec: PoCKernel.spec,
            seed: request.seed.lowercased(), participant: request.participant.lowercased(),
            params: PoCParamsMessage(seqLen: computer.task.sequenceLength, kDim: PoCKernel.kDim),
            nonceOffset: schedule.offset, nonceStride: schedule.stride, nonceCount: schedule.count, batchSize: batchSize,
            noncesDone: s.noncesDone, artifactsTotal: s.artifactsTotal, skippedTotal: s.skippedTotal, backlog: s.backlog,
            noncesPerSecond: s.computeSeconds > 0 ? Double(s.noncesDone) / s.computeSeconds : 0,
            created: created, finished: s.finished, lastSeq: s.lastSeq)
    }
}
