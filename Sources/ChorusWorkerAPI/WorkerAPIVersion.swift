/// The worker protocol's version (Specs/worker.md, "The worker protocol, version 1"): every HTTP path
/// starts with `/v1`, and an incompatible change moves to `/v2` (additive changes keep the version).
/// Reported by `chorusd --version` and `chorus --version` so an operator can match a node with a
/// worker; the HTTP client and server spell their paths out in full.
public enum WorkerAPIVersion {
    public static let current = 1
    /// The prefix of every path of this version.
    public static var pathPrefix: String { "/v\(current)" }
}
