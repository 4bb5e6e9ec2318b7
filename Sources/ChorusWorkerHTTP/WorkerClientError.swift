public import ChorusWorkerAPI

/// Why a call to a remote worker failed. The node needs to tell a worker that refused a request
/// (its answer is meaningful: fix the request) from a worker that is unhealthy (hangs, crashes
/// with 500, answers garbage: mark it unhealthy, retry elsewhere).
public enum WorkerClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The worker answered with a protocol error (4xx, or 5xx other than a crash): the request
    /// was refused for the reason given.
    case refused(WorkerError)
    /// The worker did not answer within the deadline (connect, or the whole request).
    case timedOut(url: String, seconds: Double)
    /// The worker answered 500 (or another 5xx without a protocol error body).
    case serverError(url: String, status: Int, body: String)
    /// The worker answered something that is not the protocol's JSON.
    case malformedResponse(url: String, reason: String)
    /// The connection failed (refused, reset, closed early).
    case unreachable(url: String, reason: String)

    /// True when the worker itself is at fault (the node should mark it unhealthy), as opposed
    /// to having refused a bad request.
    public var workerUnhealthy: Bool {
        switch self {
        case .refused: false
        case .timedOut, .serverError, .malformedResponse, .unreachable: true
        }
    }

    public var description: String {
        switch self {
        case let .refused(error):
            "worker refused the request: \(error)"
        case let .timedOut(url, seconds):
            "worker at \(url) did not answer within \(seconds) s; it is marked unhealthy"
        case let .serverError(url, status, body):
            "worker at \(url) failed with HTTP \(status) (\(body.prefix(200))); it is marked unhealthy"
        case let .malformedResponse(url, reason):
            "worker at \(url) sent a response that is not valid protocol JSON: \(reason); it is marked unhealthy"
        case let .unreachable(url, reason):
            "cannot reach the worker at \(url): \(reason); check that it runs and listens there"
        }
    }
}
