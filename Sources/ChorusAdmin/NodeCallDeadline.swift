import Synchronization

/// Runs `operation` (a call into the node's actor) and gives up after `limit`: a node whose loop
/// is stuck never answers, and `/readyz` or `/metrics` must still answer the prober. The call keeps
/// running in the background and its late result is dropped.
func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
    let race = DeadlineRace<T>()
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        race.begin(continuation)
        let work = Task { race.finish(await operation()) }
        let timer = Task {
            try? await Task.sleep(for: limit)
            race.finish(nil)
        }
        race.track(work, timer)
    }
}

/// The first `finish` resumes the caller and cancels the timer.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T?, Never>?
        var timer: Task<Void, Never>?
        var finished = false
    }
    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<T?, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func track(_ work: Task<Void, Never>, _ timer: Task<Void, Never>) {
        let finished = state.withLock { s -> Bool in
            s.timer = timer
            return s.finished
        }
        if finished { timer.cancel() }
    }

    func finish(_ value: T?) {
        let (continuation, timer) = state.withLock { s -> (CheckedContinuation<T?, Never>?, Task<Void, Never>?) in
            guard !s.finished else { return (nil, nil) }
            s.finished = true
            defer { s.continuation = nil }
            return (s.continuation, s.timer)
        }
        continuation?.resume(returning: value)
        timer?.cancel()
    }
}
