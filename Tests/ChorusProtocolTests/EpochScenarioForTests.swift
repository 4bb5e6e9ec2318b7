import ChorusCrypto
import ChorusProtocol
import ChorusWire

/// Builds the signed statements of one epoch for tally tests: who serves which model with which
/// count, who fakes, who delegates. Honest validators report 0 mismatches; a faker's artifacts
/// give `fakeMismatches` mismatches in every validator's sample.
struct EpochScenarioForTests {
    typealias F = FixturesForTests

    var parameters = FixturesForTests.devnet
    var epoch: UInt64 = 1
    /// Per model: participant index → committed count.
    var counts: [String: [Int: UInt64]] = [:]
    /// (participant index, model) pairs whose artifacts are fabricated.
    var fakers: Set<String> = []
    var fakeMismatches: UInt32 = 20
    /// Delegation statements (signed in the previous epoch).
    var declarations: [(Int, String, DelegationAction)] = []
    /// Validators that cast no vote at all (withholding), and ones that vote valid on fakes (colluding).
    var silent: Set<Int> = []
    var colluders: Set<Int> = []
    var keys: [Ed25519.SigningKey] = FixturesForTests.keys

    static func fakerKey(_ index: Int, _ model: String) -> String { "\(index)|\(model)" }

    func id(_ i: Int) -> Bytes32 { keys[i].publicKey.raw }

    /// Commits (two per entry, rising), delegations and votes of every committer on every latest commit.
    func statements() throws -> (commits: [SignedStatement], votes: [SignedStatement], delegations: [SignedStatement]) {
        var commits: [SignedStatement] = []
        var latest: [(Int, PoCCommit)] = []
        for model in parameters.models {
            for (i, count) in (counts[model.id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let early = PoCCommitBody(model: model.id, count: count / 2, root: Blake2b.hash256([UInt8(i), 1]), depth: 24, seedBasis: [])
                let final = PoCCommitBody(model: model.id, count: count, root: Blake2b.hash256([UInt8(i), 2]), depth: 24, seedBasis: [])
                commits.append(try F.sign(early, key: keys[i], epoch: epoch, seq: 10))
                let statement = try F.sign(final, key: keys[i], epoch: epoch, seq: 11)
                commits.append(statement)
                latest.append((i, try PoCCommit(statement, parameters: parameters)))
            }
        }
        var votes: [SignedStatement] = []
        for (_, commit) in latest {
            let validators = (counts[commit.body.model] ?? [:]).keys.sorted()
            for v in validators where !silent.contains(v) {
                let (proof, _) = LeafSampler.sign(commit: commit.statement, key: keys[v])
                let participant = keys.firstIndex { $0.publicKey.raw == commit.author } ?? -1
                let faked = fakers.contains(Self.fakerKey(participant, commit.body.model))
                let mismatches: UInt32 = faked && participant != v && !colluders.contains(v) ? fakeMismatches : 0
                let body = try Vote.body(for: commit, proof: proof, mismatches: mismatches, parameters: parameters)
                votes.append(try F.sign(body, key: keys[v], epoch: epoch, seq: 20))
            }
        }
        let delegations = try declarations.map { (i, model, action) in
            try F.sign(DelegationBody(model: model, action: action), key: keys[i], epoch: epoch - 1, seq: 1)
        }
        return (commits, votes, delegations)
    }

    /// Runs the tally with the statements fed in `order` (a permutation seed) to show order does not matter.
    func tally(previous: WeightTable, shuffleSeed: UInt64 = 0) throws -> TallyResult {
        var (commits, votes, delegations) = try statements()
        if shuffleSeed != 0 {
            var rng = SplitMix64(seed: shuffleSeed)
            commits.shuffle(using: &rng)
            votes.shuffle(using: &rng)
            delegations.shuffle(using: &rng)
        }
        var ledger = CommitLedger(parameters: parameters, epoch: epoch)
        for c in commits { _ = try ledger.add(c) }
        var book = DelegationBook()
        for d in delegations { try book.add(d, parameters: parameters) }
        return try Tally.compute(parameters: parameters, previous: previous, epoch: epoch, commits: ledger, votes: votes, delegations: book, beacon: nil)
    }
}
