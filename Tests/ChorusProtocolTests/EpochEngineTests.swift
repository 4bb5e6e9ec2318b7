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
}
