#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The storage thread: runs submitted writes on one dedicated OS thread, many per LMDB commit.
///
/// Every commit costs an fsync, so writes queued while one commit is running are coalesced into the
/// next write transaction (bounded by `Options`). A batch is acknowledged (its `async` call returns,
/// or its completion runs) only after the transaction holding it has committed, so an acknowledged
/// batch survives a crash of the process at any later moment.
///
/// Each batch is all-or-nothing: when one batch throws, the transaction is aborted and run again
/// without it, and only that batch fails. Since a batch may run more than once (after that, or when
/// the map grows), it must act only through the transaction it is given.
///
/// A batch submitted while the writer is open always runs, even if the submitting task is cancelled:
/// a durable write is not something to abandon halfway.
///
/// Never block waiting for an acknowledgement while holding a transaction: when the map must grow,
/// the storage thread waits for every open transaction in the process to end.
///
/// `@unchecked Sendable` invariant: the mutable state lives in `WriterQueue` behind its lock; `thread`
/// is written once in `init`; `environment` is itself `Sendable`.
public final class StorageWriter: @unchecked Sendable {
    /// Bounds on how much one commit may gather.
    public struct Options: Sendable, Equatable {
        /// The most batches in one transaction. Default 1024.
        public var maxBatchesPerCommit: Int
        /// The most `WriteBatch` bytes in one transaction (closure batches count as 0). Default 16 MiB.
        public var maxBytesPerCommit: Int

        public init(maxBatchesPerCommit: Int = 1024, maxBytesPerCommit: Int = 16 << 20) {
            self.maxBatchesPerCommit = max(1, maxBatchesPerCommit)
            self.maxBytesPerCommit = max(1, maxBytesPerCommit)
        }
    }

    /// Counters since the writer started, for tests and benchmarks.
    public struct Statistics: Sendable, Equatable {
        /// Batches committed.
        public var batches = 0
        /// Batches that failed (their own error, or their transaction could not commit).
        public var failedBatches = 0
        /// Transactions committed.
        public var commits = 0
        /// The most batches one commit held.
        public var largestCommit = 0
    }

    public let environment: StoreEnvironment
    private let queue: WriterQueue
    private let thread: pthread_t

    /// Starts the storage thread for `environment` (which must be writable).
    public init(environment: StoreEnvironment, options: Options = Options()) throws(StoreError) {
        guard !environment.isReadOnly else { throw .readOnly(path: environment.path) }
        let queue = WriterQueue(options: options)
        self.environment = environment
        self.queue = queue
        let loop = WriterLoop(environment: environment, queue: queue)
        do {
            thread = try StoreThread.start { loop.run() }
        } catch {
            throw .lmdb(
                operation: "start the storage thread", path: environment.path, code: error.code,
                codeName: LMDBStatus.name(of: error.code), message: String(cString: strerror(error.code)))
        }
    }

    deinit {
        close()
    }

    // MARK: - Submitting

    /// Runs `work` in a write transaction on the storage thread and returns its result once that
    /// transaction has committed.
    public func submit<R: Sendable>(
        _ work: @escaping @Sendable (borrowing WriteTransaction) throws(StoreError) -> R
    ) async throws(StoreError) -> R {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<R, StoreError>, Never>) in
            submit(work) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// `submit(_:)` for work that throws errors of any type (a closure written without an explicit
    /// `throws(StoreError)`); its own errors come back unchanged.
    public func submit<R: Sendable>(
        _ work: @escaping @Sendable (borrowing WriteTransaction) throws -> R
    ) async throws -> R {
        let box = ResultBox<R>()
        let failure = await withCheckedContinuation { (continuation: CheckedContinuation<(any Error)?, Never>) in
            enqueue(WriterJob(
                byteCount: 0,
                work: { (transaction: borrowing WriteTransaction) throws in box.value = try work(transaction) },
                finish: { (failure: (any Error)?) in continuation.resume(returning: failure) }))
        }
        if let failure { throw failure }
        return try box.committedValue()
    }

    /// Applies `batch` on the storage thread; returns once it has committed.
    public func submit(_ batch: WriteBatch) async throws(StoreError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            submit(batch) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Callback form, for threads that must not block (the libuv loop): `completion` runs on the storage
    /// thread after the commit (or with the failure). It must be quick and must not wait for the
    /// writer; hand the result back to the loop (e.g. with an async wakeup). After `close()` it runs
    /// at once, on the calling thread, with `StoreError.writerClosed`.
    public func submit<R: Sendable>(
        _ work: @escaping @Sendable (borrowing WriteTransaction) throws(StoreError) -> R,
        completion: @escaping @Sendable (Result<R, StoreError>) -> Void
    ) {
        let box = ResultBox<R>()
        let job = WriterJob(
            byteCount: 0,
            work: { (transaction: borrowing WriteTransaction) throws in box.value = try work(transaction) },
            finish: { (failure: (any Error)?) in
                completion(Result { () throws(StoreError) in
                    if let failure { throw StoreError.typed(failure) }
                    return try box.committedValue()
                })
            })
        enqueue(job)
    }

    /// Callback form of `submit(_ batch:)`; see `submit(_:completion:)` for where `completion` runs.
    public func submit(_ batch: WriteBatch, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        let job = WriterJob(
            byteCount: batch.byteCount,
            work: { (transaction: borrowing WriteTransaction) throws in try batch.apply(in: transaction) },
            finish: { (failure: (any Error)?) in
                completion(failure.map { .failure(StoreError.typed($0)) } ?? .success(()))
            })
        enqueue(job)
    }

    private func enqueue(_ job: WriterJob) {
        if !queue.append(job) { job.finish(StoreError.writerClosed(path: environment.path)) }
    }

    // MARK: - Lifecycle

    /// Stops accepting batches, lets the thread finish everything already queued, and waits for it.
    /// Called by `deinit`; calling it again does nothing.
    public func close() {
        guard queue.close() else { return }
        if pthread_equal(pthread_self(), thread) != 0 {
            // Closed from a completion on the storage thread itself: it cannot wait for itself; it
            // exits after the current commit, and its resources are released when it does.
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    /// Counters since the writer started.
    public var statistics: Statistics { queue.statistics }
}

/// One submitted batch: its work and how to acknowledge it (with nil once committed, or the failure).
struct WriterJob: Sendable {
    let byteCount: Int
    let work: @Sendable (borrowing WriteTransaction) throws -> Void
    let finish: @Sendable ((any Error)?) -> Void
}

/// Holds the value a job produced until it is acknowledged.
///
/// `@unchecked Sendable` invariant: written by the job's `work` on the storage thread; read after the
/// job's `finish` has run there (on that thread, or by the task its continuation resumes, which the
/// continuation orders after `finish`).
final class ResultBox<R>: @unchecked Sendable {
    var value: R?

    /// The value of a job that committed; `work` always sets it before a commit can succeed.
    func committedValue() throws(StoreError) -> R {
        guard let value else {
            throw .transactionMisuse(path: "", reason: "internal error: a committed batch produced no result")
        }
        return value
    }
}

extension StoreError {
    /// Errors reaching a typed API: the writer and typed work only ever throw `StoreError`.
    static func typed(_ error: any Error) -> StoreError {
        error as? StoreError ?? .transactionMisuse(path: "", reason: "unexpected error from a batch: \(error)")
    }
}

/// The queue between submitters and the storage thread, with the writer's counters.
///
/// `@unchecked Sendable` invariant: every stored property is accessed only with `lock` held.
final class WriterQueue: @unchecked Sendable {
    private let lock = ConditionLock()
    private let options: StorageWriter.Options
    private var jobs: [WriterJob] = []
    private var closed = false
    private var counters = StorageWriter.Statistics()

    init(options: StorageWriter.Options) { self.options = options }

    /// Queues a job; false once closed.
    func append(_ job: WriterJob) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            jobs.append(job)
            if jobs.count == 1 { lock.broadcast() }
            return true
        }
    }

    /// Marks the queue closed; false when it already was.
    func close() -> Bool {
        lock.withLock {
            guard !closed else { return false }
            closed = true
            lock.broadcast()
            return true
        }
    }

    /// Waits for work and takes the next group for one transaction; nil once closed and drained.
    func nextGroup() -> [WriterJob]? {
        lock.withLock {
            while jobs.isEmpty && !closed { lock.wait() }
            guard !jobs.isEmpty else { return nil }
            var count = 0
            var bytes = 0
            while count < jobs.count && count < options.maxBatchesPerCommit {
                bytes += jobs[count].byteCount
                if count > 0 && bytes > options.maxBytesPerCommit { break }
                count += 1
            }
            if count == jobs.count {
                defer { jobs = [] }
                return jobs
            }
            defer { jobs.removeFirst(count) }
            return Array(jobs[..<count])
        }
    }

    func record(committed: Int, failed: Int) {
        lock.withLock {
            counters.batches += committed
            counters.failedBatches += failed
            if committed > 0 {
                counters.commits += 1
                counters.largestCommit = max(counters.largestCommit, committed)
            }
        }
    }

    var statistics: StorageWriter.Statistics { lock.withLock { counters } }
}

/// What the storage thread runs.
struct WriterLoop: Sendable {
    let environment: StoreEnvironment
    let queue: WriterQueue

    func run() {
        while let group = queue.nextGroup() {
            commit(group)
        }
    }

    /// Commits `group` in one transaction, dropping batches that fail and splitting the group when the
    /// transaction as a whole is too large.
    private func commit(_ group: [WriterJob]) {
        var pending = group
        while !pending.isEmpty {
            var failedJob: Int?
            do {
                try environment.write { (transaction: borrowing WriteTransaction) throws in
                    for index in pending.indices {
                        do {
                            try pending[index].work(transaction)
                        } catch {
                            // A full map is not the batch's fault: `write` grows it and runs all again.
                            if case .mapGrowthNeeded? = error as? StoreError { throw error }
                            failedJob = index
                            throw error
                        }
                    }
                }
            } catch {
                if let index = failedJob, !Self.isTransactionTooLarge(error) || pending.count == 1 {
                    // That batch's own failure: acknowledge it as failed, run the others again.
                    pending.remove(at: index).finish(error)
                    queue.record(committed: 0, failed: 1)
                    continue
                }
                if pending.count > 1 && Self.isTransactionTooLarge(error) {
                    let half = pending.count / 2
                    commit(Array(pending[..<half]))
                    commit(Array(pending[half...]))
                    return
                }
                for job in pending { job.finish(error) }
                queue.record(committed: 0, failed: pending.count)
                return
            }
            queue.record(committed: pending.count, failed: 0)
            for job in pending { job.finish(nil) }
            return
        }
    }

    /// Errors that a smaller transaction might avoid.
    private static func isTransactionTooLarge(_ error: any Error) -> Bool {
        switch error as? StoreError {
        case .mapFull: return true
        case let .lmdb(_, _, code, _, _): return code == LMDBStatus.transactionFull
        default: return false
        }
    }
}
