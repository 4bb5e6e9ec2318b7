public import ChorusProtocol

/// Misbehaviour a devnet node can be told to show (`chorusd run --fault ...`), to check that the
/// network catches it. Refused unless the network id ends in `-devnet`: a production node must
/// never be one flag away from cheating.
public struct PoCFaults: Sendable, Equatable {
    /// Replace this fraction of the node's artifacts with random bytes before committing them.
    public var fakeArtifacts: Double = 0
    /// Never answer proof requests (validators then vote the node invalid).
    public var withholdProofs = false
    /// Vote a random number of mismatches instead of the checked one.
    public var randomVotes = false
    /// Sign the beacon reveal but never send it.
    public var neverReveal = false
    /// Faults the engine applies when it signs commits (inflated counts, equivocation).
    public var commits = CommitFaults()

    public init() {}

    public var isEmpty: Bool { self == PoCFaults() }

    /// The faults this build can inject, with what each does.
    public static let known: [(name: String, help: String)] = [
        ("fake-artifacts=F", "replace the fraction F (0 < F ≤ 1) of own artifacts with random bytes"),
        ("withhold-proofs", "never answer proof requests"),
        ("random-votes", "vote a random mismatch count instead of the checked one"),
        ("never-reveal", "never send the beacon reveal"),
        ("inflate-counts", "commit twice the artifacts the tree holds (with the real root)"),
        ("equivocate", "sign a second commit with the same count and another root after each commit"),
    ]

    /// Parses `--fault` values for `networkID`.
    public static func parse(_ specs: [String], networkID: String) throws(PoCFaultError) -> PoCFaults {
        var faults = PoCFaults()
        guard !specs.isEmpty else { return faults }
        guard networkID.hasSuffix("-devnet") else { throw .notDevnet(networkID) }
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            switch parts[0] {
            case "fake-artifacts":
                guard parts.count == 2, let f = Double(parts[1]), f > 0, f <= 1 else {
                    throw .invalid(spec, "fake-artifacts needs a fraction in (0, 1], e.g. fake-artifacts=0.1")
                }
                faults.fakeArtifacts = f
            case "withhold-proofs" where parts.count == 1: faults.withholdProofs = true
            case "random-votes" where parts.count == 1: faults.randomVotes = true
            case "never-reveal" where parts.count == 1: faults.neverReveal = true
            case "inflate-counts" where parts.count == 1: faults.commits.inflateCounts = true
            case "equivocate" where parts.count == 1: faults.commits.equivocate = true
            default:
                throw .invalid(spec, "unknown fault; known: \(known.map(\.name).joined(separator: ", "))")
            }
        }
        return faults
    }

    /// The flags as given, for `chorus status`.
    public var names: [String] {
        var out: [String] = []
        if fakeArtifacts > 0 { out.append("fake-artifacts=\(fakeArtifacts)") }
        if withholdProofs { out.append("withhold-proofs") }
        if randomVotes { out.append("random-votes") }
        if neverReveal { out.append("never-reveal") }
        if commits.inflateCounts { out.append("inflate-counts") }
        if commits.equivocate { out.append("equivocate") }
        return out
    }
}

public enum PoCFaultError: Error, Sendable, Equatable, CustomStringConvertible {
    case notDevnet(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case let .notDevnet(id): "fault injection is for devnets only: network \"\(id)\" does not end in \"-devnet\""
        case let .invalid(spec, reason): "--fault \(spec): \(reason)"
        }
    }
}
