public import ChorusCrypto
public import ChorusWire

/// The commit-reveal round that produces `targetEpoch`'s seed (Specs/epochs.md §3).
///
/// Feed it the verified `beacon-commit` and `beacon-reveal` statements as they arrive; it keeps
/// one commitment per eligible author (a second, different one excludes the author as an
/// equivocator), matches reveals to commitments, and says who committed but did not reveal.
/// Eligible authors are those with voting weight in the previous epoch's final table.
public struct BeaconRound: Sendable {
    public let networkID: String
    public let targetEpoch: UInt64
    public let previousTableDigest: Bytes32
    /// Voting weight per participant in the previous final table.
    public let votingWeights: [Bytes32: UInt64]

    public private(set) var commitments: [Bytes32: Bytes32] = [:]
    public private(set) var reveals: [Bytes32: Bytes32] = [:]
    /// Authors that signed two different commitments for this round; their reveals are ignored.
    public private(set) var equivocators: Set<Bytes32> = []

    public init(networkID: String, targetEpoch: UInt64, previousTableDigest: Bytes32, votingWeights: [Bytes32: UInt64]) {
        self.networkID = networkID
        self.targetEpoch = targetEpoch
        self.previousTableDigest = previousTableDigest
        self.votingWeights = votingWeights
    }

    /// Records a `beacon-commit` (statement epoch `targetEpoch − 1`).
    public mutating func addCommit(_ statement: SignedStatement) throws(ProtocolError) {
        let body = try Self.decode(statement, as: BeaconCommitBody.self)
        let author = statement.author.raw
        guard body.targetEpoch == targetEpoch, statement.epoch + 1 == targetEpoch else {
            throw .invalidStatement(type: "beacon-commit", reason: "for epoch \(body.targetEpoch) signed in epoch \(statement.epoch); this round is epoch \(targetEpoch), committed in epoch \(targetEpoch &- 1)")
        }
        guard (votingWeights[author] ?? 0) > 0 else {
            throw .invalidStatement(type: "beacon-commit", reason: "author \(author.hex) has no voting weight in the previous table")
        }
        if let existing = commitments[author], existing != body.commitment {
            equivocators.insert(author)
            reveals[author] = nil
            return
        }
        commitments[author] = body.commitment
    }

    /// Records a `beacon-reveal` (statement epoch `targetEpoch`); throws if it does not open the
    /// author's commitment.
    public mutating func addReveal(_ statement: SignedStatement) throws(ProtocolError) {
        let body = try Self.decode(statement, as: BeaconRevealBody.self)
        let author = statement.author.raw
        guard body.targetEpoch == targetEpoch, statement.epoch == targetEpoch else {
            throw .invalidStatement(type: "beacon-reveal", reason: "for epoch \(body.targetEpoch) signed in epoch \(statement.epoch); this round is epoch \(targetEpoch)")
        }
        guard !equivocators.contains(author) else {
            throw .beaconMismatch(reason: "author \(author.hex) signed two commitments for epoch \(targetEpoch)")
        }
        guard let commitment = commitments[author] else {
            throw .beaconMismatch(reason: "no commitment by \(author.hex) for epoch \(targetEpoch)")
        }
        let expected = BeaconCommitBody.commitment(networkID: networkID, author: author, targetEpoch: targetEpoch, reveal: body.reveal)
        guard expected == commitment else {
            throw .beaconMismatch(reason: "reveal by \(author.hex) does not open its commitment \(commitment.hex)")
        }
        reveals[author] = body.reveal
    }

    /// Every valid reveal so far, sorted by author.
    public var revealed: [BeaconReveal] {
        reveals.keys.sorted().compactMap { author in reveals[author].map { BeaconReveal(author: author, reveal: $0) } }
    }

    /// Authors with a commitment and no reveal (and equivocators), sorted: recorded in the table.
    public var nonRevealers: [Bytes32] {
        (Set(commitments.keys).subtracting(reveals.keys)).union(equivocators).sorted()
    }

    /// The seed from all valid reveals known now.
    public func seed() throws(ProtocolError) -> EpochSeed {
        try EpochSeed(networkID: networkID, epoch: targetEpoch, previousTableDigest: previousTableDigest, reveals: revealed)
    }

    /// The seed a prover derived from the reveal authors `basis` (its `poc-commit` names them).
    /// Throws unless every author's reveal is known here and together they carry more than
    /// `minShare` of the previous table's voting weight — which, with less than that share
    /// faulty, means at least one honest reveal made the seed unpredictable before the window.
    public func seed(basis: [Bytes32], minShare: Ratio) throws(ProtocolError) -> EpochSeed {
        var chosen: [BeaconReveal] = []
        var weight: UInt128 = 0
        for author in basis {
            guard let reveal = reveals[author] else {
                throw .beaconMismatch(reason: "seed basis names \(author.hex), whose valid reveal for epoch \(targetEpoch) is not known here")
            }
            chosen.append(BeaconReveal(author: author, reveal: reveal))
            weight += UInt128(votingWeights[author] ?? 0)
        }
        let total = votingWeights.values.reduce(UInt128(0)) { $0 + UInt128($1) }
        guard minShare.isExceeded(by: weight, of: total) else {
            throw .beaconMismatch(reason: "seed basis carries \(weight) of \(total) voting weight, not more than \(minShare)")
        }
        return try EpochSeed(networkID: networkID, epoch: targetEpoch, previousTableDigest: previousTableDigest, reveals: chosen)
    }

    static func decode<Body: StatementBody>(_ statement: SignedStatement, as type: Body.Type) throws(ProtocolError) -> Body {
        do {
            return try statement.decodeBody(as: type)
        } catch {
            throw .invalidStatement(type: Body.statementType.name, reason: error.description)
        }
    }
}
