/// Bridges for callers outside the loop (tests, benchmarks, CLI code): run a closure on the loop thread
/// and await its result. Code that lives on the loop should use an actor bound to the loop instead.
extension EventLoop {
    /// Runs `body` on the loop thread and returns its result.
    ///
    /// - Throws: `LoopError` with code `.loopShutDown` if the loop has shut down (the body never runs).
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(LoopError) -> T {
        let result: Result<T, LoopError> = await withCheckedContinuation { continuation in
            let accepted = execute { continuation.resume(returning: .success(body())) }
            if !accepted {
                continuation.resume(returning: .failure(.shutDown("run a job on event loop \(name)")))
            }
        }
        return try result.get()
    }

    /// Runs the throwing `body` on the loop thread and returns its result or rethrows its error.
    ///
    /// - Throws: what `body` throws, or `LoopError` with code `.loopShutDown` if the loop has shut down.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = execute { continuation.resume(with: Result { try body() }) }
            if !accepted {
                continuation.resume(throwing: LoopError.shutDown("run a job on event loop \(name)"))
            }
        }
    }
}
