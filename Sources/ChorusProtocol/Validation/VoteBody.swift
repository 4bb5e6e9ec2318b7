public import ChorusCrypto
public import ChorusWire

/// A validator's judgement of one participant's commit for one model.
public enum Verdict: UInt8, Sendable, Hashable, CustomStringConvertible {
    case valid = 1
    case invalid = 2

    public var description: String { self == .valid ? "valid" : "invalid" }
}

/// `vote`: the outcome of checking `samples` leaves of a `poc-commit` (Specs/validation.md §3).
/// It names the commit (by message id, root and count) so that it counts only for exactly that
/// commit, and carries the validator's signature over the commit, which proves the sample seed.
public struct VoteBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.vote
    public static let version: UInt8 = 1

    public var participant: Bytes32
    public var model: String
    /// Message id of the judged `poc-commit`.
    public var commit: Bytes32
    public var root: Bytes32
    public var count: UInt64
    public var verdict: Verdict
    public var samples: UInt32
    /// Sampled leaves whose proof failed, was not served, or whose artifact did not reproduce.
    public var mismatches: UInt32
    /// The validator's signature over `LeafSampler.sampleMessage` of the commit.
    public var sampleProof: Ed25519.Signature

    public init(
        participant: Bytes32, model: String, commit: Bytes32, root: Bytes32, count: UInt64, verdict: Verdict,
        samples: UInt32, mismatches: UInt32, sampleProof: Ed25519.Signature
    ) {
        self.participant = participant
        self.model = model
        self.commit = commit
        self.root = root
        self.count = count
        self.verdict = verdict
        self.samples = samples
        self.mismatches = mismatches
        self.sampleProof = sampleProof
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeBytes32(participant)
        writer.writeString(model)
        writer.writeBytes32(commit)
        writer.writeBytes32(root)
        writer.writeU64(count)
        writer.writeU8(verdict.rawValue)
        writer.writeU32(samples)
        writer.writeU32(mismatches)
        writer.writeSignature(sampleProof)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "vote.version")
        guard version == Self.version else { throw .unknownVersion(what: "vote", version: Int(version), highestKnown: Int(Self.version)) }
        participant = try reader.readBytes32(field: "vote.participant")
        model = try reader.readString(field: "vote.model", maxLength: ModelParameters.maxIDLength)
        guard !model.isEmpty else { throw .invalidValue(field: "vote.model", reason: "empty model id") }
        commit = try reader.readBytes32(field: "vote.commit")
        root = try reader.readBytes32(field: "vote.root")
        count = try reader.readU64(field: "vote.count")
        let tag = try reader.readU8(field: "vote.verdict")
        guard let verdict = Verdict(rawValue: tag) else { throw .invalidValue(field: "vote.verdict", reason: "must be 1 (valid) or 2 (invalid), got \(tag)") }
        self.verdict = verdict
        samples = try reader.readU32(field: "vote.samples")
        mismatches = try reader.readU32(field: "vote.mismatches")
        guard mismatches <= samples else {
            throw .invalidValue(field: "vote.mismatches", reason: "\(mismatches) mismatches in \(samples) samples")
        }
        sampleProof = try reader.readSignature(field: "vote.sample_proof")
    }
}

/// A checked vote: its statement, body, and the sample seed its proof yields.
public struct Vote: Sendable, Hashable {
    public let statement: SignedStatement
    public let body: VoteBody
    public let sampleSeed: Bytes32

    public var validator: Bytes32 { statement.author.raw }

    /// Checks a `vote` against the commit it names: same epoch, participant, model, root and
    /// count; the right number of samples; a sample proof by the voter; and a verdict that the
    /// exact binomial test gives for its counts. A vote that passes is one any honest validator
    /// could have cast; whether its mismatch count is true is what the sample proof lets others audit.
    public init(_ statement: SignedStatement, commit: PoCCommit, parameters: NetworkParameters) throws(ProtocolError) {
        var thresholds = FraudThresholds()
        try self.init(statement, commit: commit, parameters: parameters, thresholds: &thresholds)
    }

    /// As above, sharing computed fraud thresholds between many votes.
    public init(
        _ statement: SignedStatement, commit: PoCCommit, parameters: NetworkParameters, thresholds: inout FraudThresholds
    ) throws(ProtocolError) {
        let body = try BeaconRound.decode(statement, as: VoteBody.self)
        func fail(_ reason: String) -> ProtocolError { .invalidStatement(type: "vote", reason: reason) }
        guard statement.epoch == commit.epoch else { throw fail("signed in epoch \(statement.epoch), the commit is of epoch \(commit.epoch)") }
        guard body.commit == commit.statement.id else { throw fail("names commit \(body.commit.hex), not \(commit.statement.id.hex)") }
        guard body.participant == commit.author, body.model == commit.body.model, body.root == commit.body.root, body.count == commit.body.count else {
            throw fail("participant, model, root or count differ from the commit it names")
        }
        guard let model = parameters.model(body.model) else { throw fail("model \"\(body.model)\" is not approved") }
        let expectedSamples = UInt32(min(UInt64(model.sampleSize), body.count))
        guard body.samples == expectedSamples else { throw fail("\(body.samples) samples, the network requires \(expectedSamples) for count \(body.count)") }
        let fraud = thresholds.isFraud(model: model, mismatches: Int(body.mismatches), samples: Int(body.samples))
        guard body.verdict == (fraud ? .invalid : .valid) else {
            throw fail("verdict \(body.verdict) contradicts the binomial test for \(body.mismatches) of \(body.samples) mismatches")
        }
        sampleSeed = try LeafSampler.verify(
            proof: body.sampleProof, validator: statement.author, networkID: statement.networkID, epoch: commit.epoch, commitID: commit.statement.id)
        self.statement = statement
        self.body = body
    }

    /// The leaf indices this vote's validator had to check (anyone can recompute them).
    public func sampledIndices(parameters: NetworkParameters) -> [UInt64] {
        LeafSampler.indices(seed: sampleSeed, count: body.count, sampleSize: parameters.model(body.model)?.sampleSize ?? 0)
    }

    /// Builds the vote body for `commit` after the validator checked `indices` (from
    /// `LeafSampler.sign` and `indices`) and found `mismatches` of them wrong or missing.
    public static func body(
        for commit: PoCCommit, proof: Ed25519.Signature, mismatches: UInt32, parameters: NetworkParameters
    ) throws(ProtocolError) -> VoteBody {
        guard let model = parameters.model(commit.body.model) else {
            throw .invalidStatement(type: "vote", reason: "model \"\(commit.body.model)\" is not approved")
        }
        let samples = UInt32(min(UInt64(model.sampleSize), commit.body.count))
        guard mismatches <= samples else {
            throw .invalidStatement(type: "vote", reason: "\(mismatches) mismatches in \(samples) samples")
        }
        let fraud = BinomialTest.isFraud(mismatches: Int(mismatches), samples: Int(samples), pMismatch: model.pMismatch, pValueThreshold: model.pValueThreshold)
        return VoteBody(
            participant: commit.author, model: commit.body.model, commit: commit.statement.id, root: commit.body.root,
            count: commit.body.count, verdict: fraud ? .invalid : .valid, samples: samples, mismatches: mismatches, sampleProof: proof)
    }
}
