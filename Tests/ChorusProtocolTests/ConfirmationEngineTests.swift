import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Testing

/// Confirmation PoC (Specs/epochs.md §4) and the commit faults, end to end on the in-memory devnet.
@Suite struct ConfirmationEngineTests {
    typealias F = FixturesForTests

    /// The devnet of `EpochEngineTests` with delegations both ways (in force from epoch 2) and,
    /// if asked, an auditor and engines with commit faults (all set up before the declarations,
    /// so that every engine holds them).
    static func network(auditor: Bool = false, faults: [Int: CommitFaults] = [:]) throws -> InMemoryDevnetForTests {
        var net = EpochEngineTests.network()
        for (i, f) in faults {
            net.nodes[i] = EpochEngine(parameters: F.devnet, key: F.keys[i], configuration: .init(servedModels: net.nodes[i].configuration.servedModels, faults: f),
                                       beaconSecret: InMemoryDevnetForTests.beaconSecret(node: i))
        }
        if auditor { net.addAuditor(key: F.key(99)) }
        try net.declare(node: 3, model: F.synthetic, action: .delegate(to: F.keys[0].publicKey.raw))
        try net.declare(node: 4, model: F.smol, action: .delegate(to: F.keys[1].publicKey.raw))
        return net
    }

    /// Every participant re-runs PoC in the window with the window's seed, commits its reading, and
    /// validators vote on it; the next table records the readings. A node whose worker skips the
    /// windows reads zero, fails, and has no voting weight in the next table; every node (and an
    /// auditor) still agrees bit for bit, and the export of that epoch re-verifies.
    @Test func readingsAreRecordedAndAFailedConfirmationCostsTheVotingWeight() throws {
        let p = F.devnet
        var net = try Self.network(auditor: true)
        net.confirmationSkippers = [2]
        net.run(untilUnixMs: p.genesisUnixMs + 3 * Int64(p.stages.epochMs))
        #expect(net.divergences.isEmpty, "\(net.divergences)")

        for epoch: UInt64 in 1...2 {
            let readings = net.published.filter { $0.type == .confirmationCommit && $0.epoch == epoch }
            // Four honest participants, each with its served models (3 × 2 + 1 + 1 − node 2's two).
            #expect(Set(readings.map(\.author)).count == 4, "epoch \(epoch): \(readings.count) readings")
            #expect(!readings.contains { $0.author == F.keys[2].publicKey })
            let ids = Set(readings.map(\.id))
            let votes = net.published.filter { $0.type == .vote && $0.epoch == epoch }
                .filter { (try? $0.decodeBody(as: VoteBody.self)).map { ids.contains($0.commit) } == true }
            #expect(votes.count >= readings.count, "every reading is voted on")

            let next = try net.finals.map { try #require($0[epoch + 1], "epoch \(epoch + 1) not final everywhere").table }
            #expect(next.allSatisfy { $0.encodedBytes() == next[0].encodedBytes() })
            let table = next[0]
            #expect(try WeightTable(decoding: table.encodedBytes()) == table)
            let judged = try #require(net.finals[0][epoch]).table
            let rows = judged.entries.flatMap { e in e.models.filter { $0.pocWeight > 0 }.map { (e.participant, $0.model) } }
            #expect(table.confirmations.map { [$0.participant.hex, $0.model] } == rows.map { [$0.0.hex, $0.1] })
            for record in table.confirmations {
                #expect(record.readings.count == 1)
                if record.participant == F.keys[2].publicKey.raw {
                    #expect(!record.passed && record.weight == 0)
                } else {
                    #expect(record.passed && record.weight >= record.expected, "\(record)")
                }
            }
            let skipper = try #require(table.entry(F.keys[2].publicKey.raw))
            #expect(skipper.weight > 0 && skipper.votingWeight == 0)
            #expect(table.entries.filter { $0.participant != F.keys[2].publicKey.raw }.allSatisfy { $0.votingWeight > 0 })
        }

        // The export of epoch 2 carries epoch 1's readings; without them the table does not recompute.
        var export = EpochExportTests.export(net, epoch: 2)
        #expect(!export.previousConfirmations.isEmpty)
        let verified = export.verify(parameters: p)
        #expect(verified.matches, "\(verified.problems)")
        export.previousConfirmations = []
        #expect(!export.verify(parameters: p).matches)
    }

    /// A window nobody measured in (here: every worker skips it, as when the table became final
    /// only after the window) is void: no records, and nobody loses voting weight over it.
    @Test func aWindowNobodyMeasuredIsVoid() throws {
        let p = F.devnet
        var net = try Self.network()
        net.confirmationSkippers = [0, 1, 2, 3, 4]
        net.run(untilUnixMs: EpochClock(p).end(of: .tally, epoch: 2))
        #expect(!net.published.contains { $0.type == .confirmationCommit })
        let tables = try net.finals.map { try #require($0[2], "epoch 2 not final everywhere").table }
        #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        #expect(tables[0].confirmations.isEmpty)
        #expect(tables[0].entries.filter { $0.votingWeight > 0 }.count >= 4)
    }

    /// A reading is judged like a commit: an unproven one (nobody can verify its leaves) reads zero.
    @Test func aReadingValidatorsRejectReadsZero() throws {
        let p = F.devnet
        var net = try Self.network()
        net.run(untilUnixMs: EpochClock(p).start(of: .inference, epoch: 1))
        // From now on node 1's worker double fabricates every tenth artifact, in its windows too.
        net.fakers = ["1|\(F.smol)", "1|\(F.synthetic)"]
        net.run(untilUnixMs: EpochClock(p).end(of: .tally, epoch: 2))
        let table = try #require(net.finals[0][2]).table
        let records = table.confirmations.filter { $0.participant == F.keys[1].publicKey.raw }
        #expect(!records.isEmpty && records.allSatisfy { !$0.passed && $0.readings == [0] }, "\(records)")
        #expect(table.votingWeight(of: F.keys[1].publicKey.raw) == 0)
    }

    /// `inflate-counts`: the commit claims more leaves than its root holds, so no proof verifies
    /// and the entry is rejected. `equivocate`: a second root for one count is proven by everyone
    /// and voids the author's entries.
    @Test func inflatedCountsAreRejectedAndEquivocationIsCaught() throws {
        let p = F.devnet
        var net = try Self.network(faults: [1: CommitFaults(inflateCounts: true), 2: CommitFaults(equivocate: true)])
        // Epoch 2: in epoch 1 the equivocator's lost voting power leaves the honest validators
        // below τ without the delegations, so nobody is accepted and the stall rule applies.
        net.run(untilUnixMs: EpochClock(p).end(of: .tally, epoch: 2))
        let tables = try net.finals.map { try #require($0[2], "epoch 2 not final everywhere").table }
        #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        let table = tables[0]
        #expect(table.entry(F.keys[1].publicKey.raw) == nil, "inflater has no accepted entry")
        #expect(table.equivocators == [F.keys[2].publicKey.raw])
        #expect(net.published.contains { $0.type == .equivocationEvidence && $0.author != F.keys[2].publicKey })
        #expect(table.entries.map(\.participant).sorted() == [0, 3, 4].map { F.keys[$0].publicKey.raw }.sorted())
    }
}
