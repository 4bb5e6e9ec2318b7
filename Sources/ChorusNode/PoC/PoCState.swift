import ChorusCrypto
import ChorusLoop
import ChorusProtocol

/// What the node keeps for PoC beside the engine: the worker, running generations, proof requests
/// in flight, per-peer request budgets, and the record of its own validations.
struct PoCState {
    let worker: WorkerLink
    let faults: PoCFaults
    let artifacts: ArtifactStore?
    let proofTimeout: Duration
    var healthTimer: LoopTimer?
    /// Generation tasks by model (one epoch at a time).
    var generations: [String: Task<Void, Never>] = [:]
    /// The worker's job id of each running generation, by model.
    var jobs: [String: String] = [:]
    var generationStats: [String: GenerationStats] = [:]
    var proofWaiters: [UInt64: ProofWaiter] = [:]
    var nextRequestID: UInt64 = 0
    var buckets: [Ed25519.PublicKey: TokenBucket] = [:]
    /// Trees rebuilt from the artifact table (after a restart), by epoch and model.
    var diskTrees: [DiskTreeKey: SparseMerkleSumTree] = [:]
    var validations: [ValidationRecord] = []
    var counters = ProofCounters()

    static let maxValidationRecords = 1000
}

struct DiskTreeKey: Hashable {
    let epoch: UInt64
    let model: String
}

struct ProofWaiter {
    let peer: Ed25519.PublicKey
    let commit: Bytes32
    let continuation: CheckedContinuation<ProofResponse?, Never>
    let timer: LoopTimer
}

/// Requests a peer may make: `capacity` at once, refilled at `perSecond`.
struct TokenBucket {
    static let capacity = 32.0
    static let perSecond = 4.0

    var tokens = TokenBucket.capacity
    var last = ContinuousClock.now

    mutating func take(now: ContinuousClock.Instant = .now) -> Bool {
        let elapsed = last.duration(to: now)
        tokens = min(Self.capacity, tokens + Node.seconds(elapsed) * Self.perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Generation of one model in one epoch, for `chorus status`.
public struct GenerationStats: Codable, Sendable, Equatable {
    public var epoch: UInt64
    public var model: String
    /// The confirmation window being measured (Specs/epochs.md §4); nil during generation.
    public var window: UInt32?
    /// Artifacts handed to the engine (and committed at the next commit).
    public var artifacts: UInt64
    /// Of those, how many the fake-artifacts fault replaced.
    public var faked: UInt64
    /// The worker's rate, as it reports it.
    public var noncesPerSecond: Double
    public var running: Bool
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case epoch, model, artifacts, faked, running, error
        case window = "confirmation_window"
        case noncesPerSecond = "nonces_per_second"
    }
}

/// How the proof protocol has gone for this node.
public struct ProofCounters: Codable, Sendable, Equatable {
    public var requestsServed = 0
    public var requestsWithheld = 0
    public var requestsRateLimited = 0
    public var requestsUnknownCommit = 0
    public var forgedRequests = 0
    public var malformedMessages = 0
    public var unsolicitedResponses = 0
    public var requestsSent = 0
    public var requestsUnanswered = 0

    enum CodingKeys: String, CodingKey {
        case requestsServed = "requests_served"
        case requestsWithheld = "requests_withheld"
        case requestsRateLimited = "requests_rate_limited"
        case requestsUnknownCommit = "requests_unknown_commit"
        case forgedRequests = "forged_requests"
        case malformedMessages = "malformed_messages"
        case unsolicitedResponses = "unsolicited_responses"
        case requestsSent = "requests_sent"
        case requestsUnanswered = "requests_unanswered"
    }
}

/// One validation this node carried out.
public struct ValidationRecord: Codable, Sendable, Equatable {
    public var epoch: UInt64
    public var commit: String
    public var participant: String
    public var model: String
    public var samples: Int
    /// Proofs received that verified against the commit.
    public var proofsVerified: Int
    public var mismatches: Int
    /// `checked`, `no proofs served` or `no proof verified` (voted all the same), or why no vote
    /// was cast (`worker failed: ...`).
    public var outcome: String
    public var durationMs: Double

    enum CodingKeys: String, CodingKey {
        case epoch, commit, participant, model, samples, mismatches, outcome
        case proofsVerified = "proofs_verified"
        case durationMs = "duration_ms"
    }
}

/// `status.poc`: the worker and this node's PoC activity.
public struct PoCStatus: Codable, Sendable, Equatable {
    public var worker: WorkerLink.Health
    public var faults: [String]
    public var generation: [GenerationStats]
    /// Own commits and votes in the current epoch.
    public var commits: Int
    public var votes: Int
    public var proofs: ProofCounters
}
