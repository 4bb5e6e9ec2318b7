public import ChorusNode

/// `GET /status.json`, what the status page (`GET /`) polls: the listener's own health reading,
/// the readiness checks of `/readyz` and the node's bounded snapshot (`NodeStatusSnapshot`,
/// README "Status page"). `node` is nil, and `error` says why, when the node's actor did not
/// answer in time: the page then shows the health reading alone rather than nothing.
public struct StatusBody: Codable, Sendable, Equatable {
    public var health: AdminHealth
    /// nil when the node did not answer.
    public var ready: Bool?
    /// Failed readiness checks and why (as in `/readyz`).
    public var failed: [String: String]
    public var node: NodeStatusSnapshot?
    public var error: String?
}

/// `/healthz`'s answer, also part of `/status.json`.
public struct AdminHealth: Codable, Sendable, Equatable {
    /// "ok" or "unhealthy".
    public var status: String
    public var reason: String?
    public var loopLagSeconds: Double

    enum CodingKeys: String, CodingKey {
        case status, reason
        case loopLagSeconds = "loop_lag_seconds"
    }
}

extension Node {
    /// `/readyz`'s checks and the status snapshot from one turn of the node's loop.
    func statusAnswer() -> (readiness: NodeReadiness, snapshot: NodeStatusSnapshot) {
        (readiness(), statusSnapshot())
    }
}
