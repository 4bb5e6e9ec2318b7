public import ChorusWorkerAPI
import Foundation
import Synchronization

/// The node's PoC worker (Specs/worker.md): the built-in `WorkerService` or a `WorkerHTTPClient`,
/// behind calls that always end. Every call has a deadline; a call that fails or overruns marks
/// the worker unhealthy (shown by `chorus status --json`) and the node goes on without it, and
/// the next call that succeeds marks it healthy again.
public final class WorkerLink: Sendable {
    /// Where the worker is and how it is doing.
    public struct Health: Codable, Sendable, Equatable {
        /// `in-process` or the worker's URL.
        public var endpoint: String
        public var healthy: Bool
        /// The models loaded for this node's PoC (network ids).
        public var models: [String]
        public var lastError: String?
        public var failures: Int
        public var calls: Int

        enum CodingKeys: String, CodingKey {
            case endpoint, healthy, models, failures, calls
            case lastError = "last_error"
        }
    }

    public let api: any WorkerAPI
    public let endpoint: String
    /// The deadline of ordinary calls (job control, artifact pulls on top of their wait).
    public let timeout: Duration
    /// The deadline of a model load (a GGUF file can take a while).
    public let loadTimeout: Duration
    private let state: Mutex<Health>
    private let sizes = Mutex<[String: WorkerModelSize]>([:])

    public init(api: any WorkerAPI, endpoint: String, timeout: Duration = .seconds(10), loadTimeout: Duration = .seconds(300)) {
        self.api = api
        self.endpoint = endpoint
        self.timeout = timeout
        self.loadTimeout = loadTimeout
        state = Mutex(Health(endpoint: endpoint, healthy: true, models: [], lastError: nil, failures: 0, calls: 0))
    }

    public var health: Health { state.withLock { $0 } }

    /// The sizes of the loaded models, by id (for metrics).
    public var modelSizes: [String: WorkerModelSize] { sizes.withLock { $0 } }

    func loaded(_ model: String, size: WorkerModelSize? = nil) {
        state.withLock { if !$0.models.contains(model) { $0.models.append(model) } }
        if let size { sizes.withLock { $0[model] = size } }
    }

    /// Runs `operation` against the worker with a deadline. The operation keeps running in the
    /// background if it overruns (a hung worker cannot be forced), but the caller is released.
    public func call<T: Sendable>(_ what: String, timeout: Duration? = nil,
                                  _ operation: @escaping @Sendable (any WorkerAPI) async throws -> T) async throws(WorkerCallError) -> T {
        let limit = timeout ?? self.timeout
        let api = self.api
        let result: Result<T, WorkerCallError> = await Self.race(limit) {
            do { return .success(try await operation(api)) } catch {
                return .failure(.failed(what, "\(error)"))
            }
        } onTimeout: {
            .failure(.timedOut(what, limit))
        }
        state.withLock { h in
            h.calls += 1
            switch result {
            case .success:
                h.healthy = true
            case let .failure(error):
                h.healthy = false
                h.failures += 1
                h.lastError = error.description
            }
        }
        return try result.get()
    }

    /// Whichever finishes first: `operation` (in a task of its own, cancelled on timeout) or the timer.
    private static func race<R: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> R,
                                          onTimeout: @escaping @Sendable () -> R) async -> R {
        let race = Race<R>()
        return await withCheckedContinuation { (continuation: CheckedContinuation<R, Never>) in
            race.begin(continuation)
            let work = Task { race.finish(await operation()) }
            let timer = Task {
                try? await Task.sleep(for: limit)
                if !Task.isCancelled { race.finish(onTimeout()) }
            }
            race.track([work, timer])
        }
    }
}

/// One call racing its deadline: the first `finish` resumes the caller and cancels both tasks.
private final class Race<R: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<R, Never>?
        var tasks: [Task<Void, Never>] = []
        var finished = false
    }
    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<R, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func track(_ tasks: [Task<Void, Never>]) {
        let finished = state.withLock { s -> Bool in
            s.tasks = tasks
            return s.finished
        }
        // Finished before the tasks were recorded: cancel the one still waiting.
        if finished { tasks.forEach { $0.cancel() } }
    }

    func finish(_ value: R) {
        let (continuation, tasks) = state.withLock { s -> (CheckedContinuation<R, Never>?, [Task<Void, Never>]) in
            guard !s.finished else { return (nil, []) }
            s.finished = true
            defer { s.continuation = nil }
            return (s.continuation, s.tasks)
        }
        guard let continuation else { return }
        continuation.resume(returning: value)
        tasks.forEach { $0.cancel() }
    }
}

/// A worker call that did not give an answer.
public enum WorkerCallError: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut(String, Duration)
    case failed(String, String)
    /// The node has no worker for this model.
    case modelNotLoaded(String)

    public var description: String {
        switch self {
        case let .timedOut(what, limit): "worker call \(what) did not answer within \(limit); check the worker (chorus worker status)"
        case let .failed(what, reason): "worker call \(what) failed: \(reason)"
        case let .modelNotLoaded(model): "the worker has not loaded \(model); start the node with --model \(model)"
        }
    }
}
