/// What can make protocol input unusable: bad parameters, statements that break a rule, proofs
/// that do not verify. Each case says what was wrong and, where it helps, what was expected, so
/// that one log line is enough to act on.
public enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A network parameter is out of its allowed range or inconsistent with another.
    case invalidParameter(key: String, expected: String, found: String)
    /// A time before the network's genesis: no epoch exists yet.
    case beforeGenesis(unixMs: Int64, genesisUnixMs: Int64)
    /// A statement body decoded but breaks a protocol rule (wrong model, count, epoch, ...).
    case invalidStatement(type: String, reason: String)
    /// A Merkle proof does not lead to the committed root, count or index.
    case invalidProof(reason: String)
    /// Equivocation evidence that does not show a conflict by one author.
    case invalidEvidence(reason: String)
    /// A beacon reveal that does not match the author's commitment.
    case beaconMismatch(reason: String)
    /// An arithmetic result beyond the protocol's integer limits.
    case overflow(what: String)
    /// A verify-only engine (`EpochEngine.Configuration.auditor`) was asked to sign.
    case notSigning(what: String)

    public var description: String {
        switch self {
        case let .invalidParameter(key, expected, found):
            return "parameter \(key): expected \(expected), found \(found)"
        case let .beforeGenesis(unixMs, genesis):
            return "time \(unixMs) ms is before the network's genesis (\(genesis) ms since 1970): no epoch has started"
        case let .invalidStatement(type, reason):
            return "invalid \(type) statement: \(reason)"
        case let .invalidProof(reason):
            return "Merkle proof does not verify: \(reason)"
        case let .invalidEvidence(reason):
            return "equivocation evidence refused: \(reason)"
        case let .beaconMismatch(reason):
            return "beacon reveal refused: \(reason)"
        case let .overflow(what):
            return "integer overflow computing \(what); the inputs exceed the protocol's limits"
        case let .notSigning(what):
            return "this node is verify-only and signs no statements (asked for a \(what)); run it without --verify-only to take part"
        }
    }
}
