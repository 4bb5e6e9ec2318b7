import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

@Suite struct TallyTests {
    typealias F = FixturesForTests

    /// Five genesis nodes, two models, delegation in both directions, one node faking its
    /// synthetic artifacts.
    static func devnetScenario() -> EpochScenarioForTests {
        var s = EpochScenarioForTests()
        s.counts = [
            F.smol: [0: 1000, 1: 1200, 2: 900, 3: 1100],
            F.synthetic: [0: 5000, 1: 4000, 2: 6000, 4: 5500],
        ]
        s.fakers = [EpochScenarioForTests.fakerKey(2, F.synthetic)]
        s.declarations = [
            (3, F.synthetic, .delegate(to: s.id(0))),
            (4, F.smol, .delegate(to: s.id(1))),
        ]
        return s
    }

    @Test func fakerIsRejectedHonestNodesAreAccepted() throws {
        let s = Self.devnetScenario()
        let genesis = WeightTable.genesis(s.parameters)
        let result = try s.tally(previous: genesis)
        #expect(result.refusedVotes.isEmpty, "\(result.refusedVotes)")
        // Voting power: own genesis weight plus delegated weight.
        #expect(result.votingPower[F.synthetic]?[s.id(0)] == 2000)
        #expect(result.votingPower[F.smol]?[s.id(1)] == 2000)
        #expect(result.votingPower[F.smol]?[s.id(4)] == nil)
        for outcome in result.outcomes {
            let faked = outcome.participant == s.id(2) && outcome.model == F.synthetic
            #expect(outcome.accepted == !faked, "\(outcome)")
        }
        let table = result.table
        #expect(table.weight(of: s.id(0)) == 2000)  // 1000 + 5000 / 5
        #expect(table.weight(of: s.id(1)) == 2000)  // 1200 + 4000 / 5
        #expect(table.weight(of: s.id(2)) == 900)   // synthetic rejected
        #expect(table.weight(of: s.id(3)) == 1100)
        #expect(table.weight(of: s.id(4)) == 1100)
        #expect(table.votingWeight(of: s.id(2)) == 900)
        #expect(table.votingWeight(of: s.id(0)) == 1000)  // capped by the previous weight
        let row = try #require(table.entry(s.id(3))?.models.first { $0.model == F.synthetic })
        #expect(row.mode == .delegate)
    }

    @Test func sameStatementsInAnyOrderGiveTheSameTableBitForBit() throws {
        let s = Self.devnetScenario()
        let genesis = WeightTable.genesis(s.parameters)
        let reference = try s.tally(previous: genesis).table
        for seed: UInt64 in [1, 2, 3] {
            let other = try s.tally(previous: genesis, shuffleSeed: seed).table
            #expect(other.encodedBytes() == reference.encodedBytes())
            #expect(other.digest == reference.digest)
        }
        let decoded = try WeightTable(decoding: reference.encodedBytes())
        #expect(decoded == reference)
        #expect(throws: WireError.self) { try WeightTable(decoding: reference.encodedBytes() + [0]) }
        #expect(throws: WireError.self) { try WeightTable(decoding: Array(reference.encodedBytes().dropLast())) }
    }

    @Test func withoutEnoughValidPowerNobodyIsAcceptedAndTheStallRuleCarriesWeights() throws {
        var s = Self.devnetScenario()
        // Only node 4 serves the synthetic model and nobody delegates to it: 1000 of 5000 < 2/3.
        s.counts = [F.synthetic: [4: 5000]]
        s.declarations = []
        let genesis = WeightTable.genesis(s.parameters)
        let result = try s.tally(previous: genesis)
        #expect(result.outcomes.count == 1 && !result.outcomes[0].accepted)
        #expect(result.table.entries.map(\.weight) == genesis.entries.map(\.weight))
    }

    /// The independent auditor's finding: the only server of a model held 4,000 of 5,000 delegated
    /// power and accepted itself alone. A vote on one's own entry never counts now (Specs/weights.md §3).
    @Test func noValidatorAcceptsItselfWhateverPowerIsDelegatedToIt() throws {
        var s = Self.devnetScenario()
        s.counts = [F.synthetic: [0: 5000, 4: 5000]]
        s.fakers = []
        s.declarations = [(1, F.synthetic, .delegate(to: s.id(0))), (2, F.synthetic, .delegate(to: s.id(0))),
                          (3, F.synthetic, .delegate(to: s.id(0)))]
        s.silent = [4]  // the only other validator withholds its vote on node 0
        let result = try s.tally(previous: WeightTable.genesis(s.parameters))
        #expect(result.votingPower[F.synthetic]?[s.id(0)] == 4000)
        let own = try #require(result.outcomes.first { $0.participant == s.id(0) })
        #expect(!own.accepted && own.validPower == 0, "\(own)")
        // Node 4's entry, vouched for by node 0 (more than 1 − τ of the others' weight), is accepted.
        #expect(result.outcomes.first { $0.participant == s.id(4) }?.accepted == true)
    }

    /// A coalition below 1 − τ of the weight can neither accept a member's fake (its own votes do not
    /// count for it) nor reject an honest entry by withholding or voting invalid.
    @Test func aCoalitionBelowAThirdNeitherAcceptsFakesNorRejectsHonestEntries() throws {
        var s = Self.devnetScenario()  // node 2 fakes its synthetic artifacts
        s.colluders = [2, 4]           // 2 vouches for itself (never counts), 4 vouches for 2's fake
        s.silent = [1]                 // and 1 withholds every vote
        let result = try s.tally(previous: WeightTable.genesis(s.parameters))
        for outcome in result.outcomes {
            let faked = outcome.participant == s.id(2) && outcome.model == F.synthetic
            #expect(outcome.accepted == !faked, "\(outcome)")
        }
    }

    /// Nobody but the author holds power for the model: nobody can judge its entry. It keeps its
    /// previous PoC weight (never more than the new count's), for one epoch after an accepted one.
    @Test func anEntryNobodyCanJudgeCarriesItsPreviousWeightOnce() throws {
        let first = Self.devnetScenario()
        let table1 = try first.tally(previous: WeightTable.genesis(first.parameters)).table
        let before = try #require(table1.entry(first.id(0))?.models.first { $0.model == F.synthetic })
        #expect(before.accepted && before.pocWeight > 0)
        var s = first
        s.epoch = 2
        s.fakers = []
        s.counts = [F.synthetic: [0: 9000]]
        s.declarations = (1...4).map { ($0, F.synthetic, .delegate(to: s.id(0))) }
        let result = try s.tally(previous: table1)
        let outcome = try #require(result.outcomes.first { $0.participant == s.id(0) })
        #expect(!outcome.accepted && outcome.carried)
        let row = try #require(result.table.entry(s.id(0))?.models.first { $0.model == F.synthetic })
        #expect(row.pocWeight == before.pocWeight)
        // A second epoch in a row: the previous row was carried, not accepted, so nothing is carried.
        var again = s
        again.epoch = 3
        let third = try again.tally(previous: result.table)
        #expect(third.outcomes.first { $0.participant == s.id(0) }?.carried == false)
    }

    @Test func equivocatorLosesItsWeightAndItsVotes() throws {
        let s = Self.devnetScenario()
        var (commits, votes, delegations) = try s.statements()
        // Node 1 signs a second root for its final smol count.
        commits.append(try F.sign(PoCCommitBody(model: F.smol, count: 1200, root: Blake2b.hash256([9]), depth: 24, seedBasis: []), key: s.keys[1], epoch: 1, seq: 12))
        var ledger = CommitLedger(parameters: s.parameters, epoch: 1)
        var evidence: [EquivocationEvidenceBody] = []
        for c in commits { if case let .equivocation(_, e) = try ledger.add(c) { evidence.append(e) } }
        #expect(evidence.count == 1)
        var book = DelegationBook()
        for d in delegations { try book.add(d, parameters: s.parameters) }
        var rng = SplitMix64(seed: 77)
        votes.shuffle(using: &rng)
        let result = try Tally.compute(parameters: s.parameters, previous: .genesis(s.parameters), epoch: 1, commits: ledger, votes: votes, delegations: book, beacon: nil)
        #expect(result.table.weight(of: s.id(1)) == 0)
        #expect(result.table.equivocators == [s.id(1)])
        #expect(result.votingPower[F.smol]?[s.id(1)] == nil)
        // Node 4 delegated smol to the equivocator: the delegation no longer qualifies.
        #expect(result.table.entry(s.id(4))?.models.first { $0.model == F.smol }?.mode == ParticipationMode.none)
    }

    @Test func newcomerGetsWeightButNoVotingWeightForOneEpoch() throws {
        var s = Self.devnetScenario()
        s.fakers = []
        let table1 = try s.tally(previous: .genesis(s.parameters)).table
        // Epoch 2: a sixth node joins and serves smol.
        var s2 = s
        s2.epoch = 2
        s2.keys = F.keys + [F.key(6)]
        s2.counts[F.smol]?[5] = 1000
        s2.declarations = []
        let result = try s2.tally(previous: table1)
        let newcomer = F.key(6).publicKey.raw
        #expect(result.votingPower[F.smol]?[newcomer] == nil)
        #expect(result.table.weight(of: newcomer) > 0)
        #expect(result.table.votingWeight(of: newcomer) == 0)
        // Its votes did not count, yet it was accepted by the others.
        #expect(result.outcomes.first { $0.participant == newcomer }?.accepted == true)
    }
}

@Suite struct CertificateTests {
    typealias F = FixturesForTests

    func signature(_ i: Int, digest: Bytes32, seq: UInt64 = 1, epoch: UInt64 = 1) throws -> SignedStatement {
        try F.sign(CertificateSignatureBody(tableDigest: digest), key: F.keys[i], epoch: epoch, seq: seq)
    }

    @Test func moreThanTwoThirdsOfVotingWeightMakesItFinal() throws {
        let genesis = WeightTable.genesis(F.devnet)
        var collector = CertificateCollector(networkID: "chorus-devnet", epoch: 1, previous: genesis, threshold: F.devnet.voteThreshold)
        let good = Blake2b.hash256([1])
        let bad = Blake2b.hash256([2])
        #expect(try collector.add(try signature(0, digest: good)) == nil)
        #expect(try collector.add(try signature(1, digest: good)) == nil)
        #expect(try collector.add(try signature(2, digest: bad)) == nil)
        #expect(try collector.add(try signature(3, digest: good)) == nil)  // 3 of 5 = 60 %
        #expect(collector.candidates.first?.digest == good)
        // Node 2 reconciles and re-signs the majority's digest with a higher seq: 4 of 5 > 2/3.
        let certificate = try #require(try collector.add(try signature(2, digest: good, seq: 2)))
        #expect(certificate.tableDigest == good && certificate.signatures.count == 4)
        try certificate.verify(networkID: "chorus-devnet", previous: genesis, threshold: F.devnet.voteThreshold)
        // Fewer signatures do not verify; nor do signatures of another epoch.
        let partial = Certificate(epoch: 1, tableDigest: good, signatures: Array(certificate.signatures.prefix(3)))
        #expect(throws: ProtocolError.self) { try partial.verify(networkID: "chorus-devnet", previous: genesis, threshold: F.devnet.voteThreshold) }
        #expect(throws: ProtocolError.self) { try collector.add(try signature(4, digest: good, epoch: 2)) }
        // A signer without voting weight changes nothing.
        var other = CertificateCollector(networkID: "chorus-devnet", epoch: 1, previous: genesis, threshold: F.devnet.voteThreshold)
        let outsider = try F.sign(CertificateSignatureBody(tableDigest: good), key: F.key(9), epoch: 1, seq: 1)
        #expect(try other.add(outsider) == nil && other.support(for: good) == 0)
    }
}
