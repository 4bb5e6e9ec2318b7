/// `members` (control socket) and the membership part of `status`: what SWIM on this node believes.

/// Alive, suspect and dead members, not counting the node itself.
public struct MemberCounts: Codable, Sendable, Equatable {
    public var alive = 0
    public var suspect = 0
    public var dead = 0

    public init(alive: Int = 0, suspect: Int = 0, dead: Int = 0) {
        self.alive = alive
        self.suspect = suspect
        self.dead = dead
    }
}

/// One member as this node sees it.
public struct MemberInfo: Codable, Sendable, Equatable {
    public var publicKey: String
    /// Its listen address (= its UDP address), if known.
    public var address: String?
    /// "alive", "suspect" or "dead".
    public var state: String
    public var incarnation: UInt64
    /// Seconds since this node last changed the member's state.
    public var sinceSeconds: Double

    enum CodingKeys: String, CodingKey {
        case publicKey = "public_key"
        case address, state, incarnation
        case sinceSeconds = "since_seconds"
    }
}

/// The answer to `members`.
public struct MembersResult: Codable, Sendable, Equatable {
    public var publicKey: String
    /// This node's own incarnation (raised each time it refutes a suspicion).
    public var incarnation: UInt64
    /// Lifeguard's local health multiplier (0 healthy … 8).
    public var localHealth: Int
    public var counts: MemberCounts
    public var members: [MemberInfo]
    public var datagrams: MembershipCounters
    /// The failure detector's own counts: probes, failed probes, suspicions this node raised, deaths it
    /// declared (a suspicion that ran out here), and refutations of suspicions about itself.
    public var probes: Int
    public var probesFailed: Int
    public var suspicionsRaised: Int
    public var deathsDeclared: Int
    public var refutations: Int
    /// Updates ignored because they raised an incarnation further than a relayed update may
    /// (Specs/membership.md §1, incarnation bounds).
    public var implausibleIncarnations: Int
    /// Admission (Specs/membership.md §1): relayed members waiting for their own datagram, admitted
    /// so far, and refused by the candidate bounds.
    public var candidates: Int
    public var candidatesAdmitted: Int
    public var candidatesRefused: Int

    enum CodingKeys: String, CodingKey {
        case publicKey = "public_key"
        case incarnation
        case localHealth = "local_health"
        case counts, members, datagrams, probes
        case probesFailed = "probes_failed"
        case suspicionsRaised = "suspicions_raised"
        case deathsDeclared = "deaths_declared"
        case refutations
        case implausibleIncarnations = "implausible_incarnations"
        case candidates
        case candidatesAdmitted = "candidates_admitted"
        case candidatesRefused = "candidates_refused"
    }
}
