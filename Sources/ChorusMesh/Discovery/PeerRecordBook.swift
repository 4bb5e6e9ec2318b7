import ChorusCrypto

/// The newest signed peer record held for each identity, and the rules that decide whether a
/// record heard from a peer is taken (Specs/gossip.md §5, "Peer records").
///
/// A record is accepted only when it is for this network, its signature verifies, its `seq` is
/// higher than the one held for the key, it was not signed too far in the future, and — unless the
/// network allows them — it advertises no private or loopback address. Everything else is refused
/// with a reason the shell counts; a *forged* record (bad signature) is the relaying peer's fault and
/// the shell lowers that peer's score. Pure: time is an input.
public struct PeerRecordBook: Sendable {
    public struct Settings: Sendable, Equatable {
        public var networkID: String
        /// Accept records advertising private or loopback addresses (devnets, labs).
        public var allowPrivateAddresses: Bool
        /// Records held at most; when full, the one signed longest ago makes room.
        public var capacity = 4096
        /// A record signed further than this in the future is refused (clock skew allowance).
        public var maxClockSkewMs: UInt64 = 10 * 60 * 1000

        public init(networkID: String, allowPrivateAddresses: Bool) {
            self.networkID = networkID
            self.allowPrivateAddresses = allowPrivateAddresses
        }
    }

    /// What became of a record offered to the book.
    public enum Outcome: Sendable, Equatable {
        /// Stored: file its addresses. `replaced` is the seq it superseded, if any.
        case accepted(replaced: UInt64?)
        /// Its seq is not above the held one (a replay or an older record).
        case stale(held: UInt64)
        /// The signature does not verify: whoever relayed it is to blame.
        case forged
        case wrongNetwork
        /// Signed more than `maxClockSkewMs` ahead of our clock.
        case fromTheFuture
        /// Advertises a private or loopback address on a network that does not allow them.
        case privateAddress
        /// The record of this node itself (never filed).
        case own
    }

    public let settings: Settings
    public let localIdentity: Ed25519.PublicKey
    private var records: [Ed25519.PublicKey: PeerRecord] = [:]

    public init(localIdentity: Ed25519.PublicKey, settings: Settings) {
        self.localIdentity = localIdentity
        self.settings = settings
    }

    public var count: Int { records.count }
    public func record(for identity: Ed25519.PublicKey) -> PeerRecord? { records[identity] }
    /// Every held record, ordered by key (deterministic sampling in tests).
    public var all: [PeerRecord] { records.values.sorted { $0.publicKey < $1.publicKey } }

    /// Decides on `record`; on `.accepted` it replaces the held one. `nowMs` is Unix milliseconds.
    public mutating func consider(_ record: PeerRecord, nowMs: UInt64) -> Outcome {
        guard record.networkID == settings.networkID else { return .wrongNetwork }
        // The signature first: a forged record must be blamed even if it would be stale.
        guard record.hasValidSignature else { return .forged }
        if record.publicKey == localIdentity { return .own }
        if let held = records[record.publicKey], record.seq <= held.seq { return .stale(held: held.seq) }
        guard record.issuedAtMs <= nowMs &+ settings.maxClockSkewMs else { return .fromTheFuture }
        if !settings.allowPrivateAddresses, record.addresses.contains(where: \.isPrivateOrLoopback) { return .privateAddress }
        let replaced = records[record.publicKey]?.seq
        if replaced == nil, records.count >= settings.capacity,
           let oldest = records.values.min(by: { ($0.issuedAtMs, $0.publicKey) < ($1.issuedAtMs, $1.publicKey) }) {
            records[oldest.publicKey] = nil
        }
        records[record.publicKey] = record
        return .accepted(replaced: replaced)
    }
}
