import ChorusProtocol

/// `votes` over the control socket (`chorus votes`): the votes an epoch holds, and the checks
/// this node made to cast its own.
extension Node {
    public func votes(_ epoch: UInt64?) -> VotesResult? {
        guard let engine = epochs?.engine else { return nil }
        let shown = epoch ?? (try? EpochClock(engine.parameters).position(atUnixMs: Self.unixMillis()))?.epoch ?? 0
        let votes = engine.statements(epoch: shown).filter { $0.type == .vote }.compactMap { s -> VotesResult.Vote? in
            guard let body = try? s.decodeBody(as: VoteBody.self) else { return nil }
            return VotesResult.Vote(validator: s.author.hex, participant: body.participant.hex, model: body.model,
                                    commit: body.commit.hex, count: body.count, verdict: "\(body.verdict)",
                                    samples: body.samples, mismatches: body.mismatches, own: s.author == publicKey)
        }.sorted { ($0.participant, $0.validator) < ($1.participant, $1.validator) }
        return VotesResult(epoch: shown, votes: votes, validations: (poc?.validations ?? []).filter { $0.epoch == shown })
    }
}

public struct VotesResult: Codable, Sendable, Equatable {
    public struct Vote: Codable, Sendable, Equatable {
        public var validator: String
        public var participant: String
        public var model: String
        public var commit: String
        /// The committed leaf count the vote judged.
        public var count: UInt64
        public var verdict: String
        public var samples: UInt32
        public var mismatches: UInt32
        /// Cast by this node.
        public var own: Bool
    }
    public var epoch: UInt64
    public var votes: [Vote]
    /// This node's own checks in the epoch (proofs fetched, time taken).
    public var validations: [ValidationRecord]
}
