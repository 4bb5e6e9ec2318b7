import ChorusCrypto

/// What a node believes about one member (SWIM's three states).
public enum MemberStatus: UInt8, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Answers probes, or has refuted every suspicion so far.
    case alive = 0
    /// A probe failed; the member has until its suspicion timeout to refute.
    case suspect = 1
    /// Declared failed (or left). Only a higher incarnation brings it back.
    case dead = 2

    public static func < (a: MemberStatus, b: MemberStatus) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .alive: return "alive"
        case .suspect: return "suspect"
        case .dead: return "dead"
        }
    }
}

/// One disseminated fact about a member: "`member` is `status` at `incarnation`".
///
/// Updates are ordered by incarnation, and at equal incarnation dead > suspect > alive, so every
/// node applies the same set of updates to the same result whatever the order they arrive in.
/// Only the member itself raises its incarnation (to refute a suspicion), which is why a live member
/// always wins against stale accusations.
public struct MemberUpdate: Sendable, Equatable, CustomStringConvertible {
    public var member: Ed25519.PublicKey
    public var status: MemberStatus
    public var incarnation: UInt64
    /// The member's advertised listen address (alive updates), so every node can reach it.
    public var address: NetAddress?
    /// Who raised a suspicion or declared the death; suspicions from distinct sources are the
    /// independent confirmations that shorten the suspicion timeout (Lifeguard).
    public var source: Ed25519.PublicKey?

    public init(member: Ed25519.PublicKey, status: MemberStatus, incarnation: UInt64,
                address: NetAddress? = nil, source: Ed25519.PublicKey? = nil) {
        self.member = member
        self.status = status
        self.incarnation = incarnation
        self.address = address
        self.source = source
    }

    /// The highest incarnation on the wire (2^62). A node raises its incarnation by one per
    /// refutation, so no honest node comes near it; a datagram carrying more is malformed. The
    /// margin below `UInt64.max` keeps `incarnation + 1` from ever overflowing (Specs/membership.md §1).
    public static let maxIncarnation: UInt64 = 1 << 62

    public var description: String {
        "\(status)(\(member.hex.prefix(8)), inc \(incarnation)\(source.map { ", from \($0.hex.prefix(8))" } ?? ""))"
    }
}

/// A membership protocol message between two nodes (SWIM with Lifeguard, `Specs/membership.md`).
/// Every message carries piggybacked `updates`, so dissemination costs no extra messages while
/// probes run.
public struct SWIMMessage: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// "Are you alive?" Answered with `ack` carrying the same sequence number.
        case ping(sequence: UInt64)
        /// "Probe `target` for me": the receiver pings the target, forwards its ack with this sequence
        /// number, and answers `nack` if no ack came within 80 % of `timeoutMilliseconds` (so the
        /// requester learns that the relay itself is healthy).
        case pingRequest(sequence: UInt64, target: Ed25519.PublicKey, timeoutMilliseconds: UInt32)
        case ack(sequence: UInt64)
        case nack(sequence: UInt64)
        /// Dissemination only.
        case gossip
        /// Full-state exchange (anti-entropy, joins, partition healing); answered once with
        /// `isReply == true`.
        case sync(members: [MemberUpdate], isReply: Bool)
    }

    public var kind: Kind
    public var updates: [MemberUpdate]

    public init(_ kind: Kind, updates: [MemberUpdate] = []) {
        self.kind = kind
        self.updates = updates
    }
}
