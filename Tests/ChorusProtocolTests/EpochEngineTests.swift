import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

@Suite struct EpochEngineTests {
    typealias F = FixturesForTests

    /// Five nodes, two models, delegation in both directions, node 2 faking 10 % of its synthetic
    /// artifacts; three epochs on a manual clock. Every node ends with the same final tables, bit for bit.
    @Test func fiveNodesAgreeOnEveryTableBitForBit() throws {
        let p = F.devnet
        let both = [F.smol, F.synthetic]
        var net = InMemoryDevnetForTests(
            parameters: p, keys: F.keys, served: [both, both, both, [F.smol], [F.synthetic]],
            rates: Array(repeating: [F.smol: 10, F.synthetic: 40], count: 5))
        net.fakers = ["2|\(F.synthetic)"]
        try net.declare(node: 3, model: F.synthetic, action: .delegate(to: F.keys[0].publicKey.raw))
        try net.declare(node: 4, model: F.smol, action: .delegate(to: F.keys[1].publicKey.raw))
        net.run(untilUnixMs: p.genesisUnixMs + 3 * Int64(p.stages.epochMs))

        #expect(net.divergences.isEmpty, "\(net.divergences)")
        #expect(net.skipped.isEmpty, "\(net.skipped)")
        var previous = WeightTable.genesis(p)
        for epoch: UInt64 in 1...3 {
            let tables = try net.finals.map { try #require($0[epoch], "epoch \(epoch) not final everywhere").table }
            let bytes = tables[0].encodedBytes()
            #expect(tables.allSatisfy { $0.encodedBytes() == bytes }, "epoch \(epoch) tables differ")
            let certificate = try #require(net.finals[0][epoch]?.certificate)
            try certificate.verify(networkID: p.networkID, previous: previous, threshold: p.voteThreshold)
            let table = tables[0]
            #expect(table.previousDigest == previous.digest)
            // The faker's synthetic entry is rejected every epoch; every other entry is accepted.
            for entry in table.entries {
                for row in entry.models where row.committedCount > 0 {
                    let faker = entry.participant == F.keys[2].publicKey.raw && row.model == F.synthetic
                    #expect(row.accepted == !faker, "epoch \(epoch) \(entry.participant.hex.prefix(8)) \(row.model)")
                }
            }
            #expect(table.entries.count == 5)
            if epoch >= 2 {
                #expect(table.reveals.count == 5 && table.nonRevealers.isEmpty)
                let row3 = try #require(table.entry(F.keys[3].publicKey.raw)?.models.first { $0.model == F.synthetic })
                #expect(row3.mode == .delegate)
                let row4 = try #require(table.entry(F.keys[4].publicKey.raw)?.models.first { $0.model == F.smol })
                #expect(row4.mode == .delegate)
            }
            previous = table
        }
        // Confirmation windows: one per epoch, identical on every node, inside the inference stage.
        let clock = EpochClock(p)
        for epoch: UInt64 in 1...2 {
            let windows = net.confirmationWindows.map { $0[epoch] ?? [] }
            #expect(windows.allSatisfy { $0 == windows[0] } && windows[0].count == 1)
            if let w = windows[0].first {
                #expect(w.start >= clock.start(of: .inference, epoch: epoch) && w.end <= clock.end(of: .inference, epoch: epoch))
            }
        }
    }

    static func network() -> InMemoryDevnetForTests {
        let both = [F.smol, F.synthetic]
        return InMemoryDevnetForTests(
            parameters: F.devnet, keys: F.keys, served: [both, both, both, [F.smol], [F.synthetic]],
            rates: Array(repeating: [F.smol: 10, F.synthetic: 40], count: 5))
    }

    /// A node that signs two roots for one count is caught by every node, the evidence is gossiped,
    /// and the final table gives it no weight. (Epoch 2, so that the delegations declared at
    /// genesis let the others pass τ without the equivocator's voting power.)
    @Test func equivocationIsGossipedAndCostsTheWeight() throws {
        let p = F.devnet
        var net = Self.network()
        try net.declare(node: 3, model: F.synthetic, action: .delegate(to: F.keys[0].publicKey.raw))
        try net.declare(node: 4, model: F.smol, action: .delegate(to: F.keys[0].publicKey.raw))
        let clock = EpochClock(p)
        net.run(untilUnixMs: clock.start(of: .generation, epoch: 2) + 8_000)
        let honest = try #require(net.published.last { $0.type == .pocCommit && $0.author == F.keys[1].publicKey && $0.epoch == 2 })
        let body = try honest.decodeBody(as: PoCCommitBody.self)
        let forged = PoCCommitBody(model: body.model, count: body.count, root: Blake2b.hash256([0xee]), depth: body.depth, seedBasis: body.seedBasis)
        net.inject(try F.sign(forged, key: F.keys[1], epoch: 2, seq: honest.seq + 1_000))
        net.run(untilUnixMs: clock.end(of: .tally, epoch: 2))
        #expect(net.published.contains { $0.type == .equivocationEvidence && $0.epoch == 2 })
        let tables = try net.finals.map { try #require($0[2]).table }
        #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        #expect(tables[0].equivocators == [F.keys[1].publicKey.raw])
        #expect(tables[0].entry(F.keys[1].publicKey.raw) == nil)
        #expect(tables[0].entries.count == 4)
    }

    /// A node restarted in the middle of generation keeps its seed basis and never commits a lower
    /// count, so it is not taken for an equivocator, and the network still agrees.
    @Test func restartedNodeDoesNotEquivocate() throws {
        let p = F.devnet
        var net = Self.network()
        try net.declare(node: 3, model: F.synthetic, action: .delegate(to: F.keys[0].publicKey.raw))
        try net.declare(node: 4, model: F.smol, action: .delegate(to: F.keys[1].publicKey.raw))
        let clock = EpochClock(p)
        net.run(untilUnixMs: clock.start(of: .generation, epoch: 2) + 7_000)
        let before = net.published.filter { $0.type == .pocCommit && $0.author == F.keys[0].publicKey && $0.epoch == 2 }.count
        #expect(before > 0)
        net.restart(node: 0)
        net.run(untilUnixMs: clock.end(of: .tally, epoch: 2))
        #expect(!net.published.contains { $0.type == .equivocationEvidence })
        let tables = try net.finals.map { try #require($0[2], "epoch 2 not final everywhere").table }
        #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        #expect(net.skipped.isEmpty, "\(net.skipped)")
        #expect(tables[0].weight(of: F.keys[0].publicKey.raw) > 0)
        #expect(tables[0].equivocators.isEmpty)
    }

    /// A node that missed most votes computes another table, reports the divergence, and after
    /// receiving the votes recomputes, re-signs and reaches the final table.
    @Test func divergentNodeReconcilesAndReSigns() throws {
        let p = F.devnet
        var net = Self.network()
        let clock = EpochClock(p)
        let healAt = clock.start(of: .tally, epoch: 1) + 3_000
        let others = Set([0, 1, 2].map { F.keys[$0].publicKey })
        net.withholding = [(node: 4, until: healAt, matches: { $0.type == .vote && others.contains($0.author) })]
        net.run(untilUnixMs: clock.end(of: .tally, epoch: 1))
        #expect(net.divergences.contains { $0.hasPrefix("node 4 epoch 1") }, "\(net.divergences)")
        let tables = try net.finals.map { try #require($0[1], "not final everywhere").table }
        #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        // Node 4 signed twice: first its own divergent digest, then the final one.
        let signatures = net.published.filter { $0.type == .certificateSignature && $0.author == F.keys[4].publicKey }
        #expect(signatures.count == 2)
        let last = try #require(signatures.max { $0.seq < $1.seq })
        #expect(try last.decodeBody(as: CertificateSignatureBody.self).tableDigest == tables[0].digest)
    }
}

@Suite struct ConfirmationPoCTests {
    typealias F = FixturesForTests

    @Test func windowsAreSeededAndInsideTheInferenceStage() throws {
        var p = F.devnet
        p.confirmation = ConfirmationParameters(windowsPerEpoch: 3, windowMs: 2_000, passRatio: Ratio(millionths: 700_000))
        let clock = EpochClock(p)
        let a = ConfirmationPoC.windows(agreedSeed: EpochSeed(value: Blake2b.hash256([1])), epoch: 4, parameters: p)
        let b = ConfirmationPoC.windows(agreedSeed: EpochSeed(value: Blake2b.hash256([1])), epoch: 4, parameters: p)
        let c = ConfirmationPoC.windows(agreedSeed: EpochSeed(value: Blake2b.hash256([2])), epoch: 4, parameters: p)
        #expect(a == b && a != c && a.count == 3)
        #expect(a.map(\.start) == a.map(\.start).sorted())
        for w in a + c {
            #expect(w.start >= clock.start(of: .inference, epoch: 4) && w.end <= clock.end(of: .inference, epoch: 4) && w.end - w.start == 2_000)
        }
        p.confirmation.windowsPerEpoch = 0
        #expect(ConfirmationPoC.windows(agreedSeed: EpochSeed(value: Blake2b.hash256([1])), epoch: 4, parameters: p).isEmpty)
    }

    @Test func seventyPercentRule() {
        var p = F.devnet  // a 5 s window of a 15 s reference window, pass ratio 0.7
        p.confirmation.windowMs = 5_000
        let expected = ConfirmationPoC.expectedCount(pocWeight: 3_000, parameters: p)
        #expect(expected == 1_000)
        #expect(ConfirmationPoC.passes(reading: 700, expected: expected, parameters: p))
        #expect(!ConfirmationPoC.passes(reading: 699, expected: expected, parameters: p))
        #expect(ConfirmationPoC.confirmationWeight(readings: [900, 720, 1_000]) == 720)
        #expect(ConfirmationPoC.confirmationWeight(readings: []) == nil)
    }
}
