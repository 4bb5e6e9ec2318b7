/// What one client request may ask of a node's API (and of an executor it is routed to). Each bound is enforced before any work is
/// queued, answered with a 400/413/503 in OpenAI's error shape, and tested by a request that
/// exceeds it (Tests/ChorusAPITests). Defaults follow Gonka's gateway hygiene
/// (README "OpenAI-compatible API").
public struct APILimits: Sendable, Equatable {
    /// Request body, bytes (413 beyond).
    public var maxBodyBytes: Int = 10 * 1024 * 1024
    /// Nesting of arrays and objects in the body.
    public var maxJSONDepth: Int = 32
    /// Chat messages per request.
    public var maxMessages: Int = 2_048
    /// Stop sequences per request, and bytes per sequence.
    public var maxStopSequences: Int = 16
    public var maxStopBytes: Int = 256
    /// The largest `max_tokens` accepted; a request without one gets
    /// `min(defaultMaxTokens, what the context leaves)`.
    public var maxTokens: Int = 4_096
    public var defaultMaxTokens: Int = 512
    /// Alternatives per position in `logprobs`.
    public var maxTopLogprobs: Int = 5
    /// Requests being served at once by this API (503 `overloaded` beyond): each holds a
    /// connection, a generation slot and its output until it ends.
    public var maxConcurrentRequests: Int = 64

    public init() {}
}
