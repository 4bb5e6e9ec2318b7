import ChorusCrypto
import ChorusNetworkFile
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

/// A coalition holding less than a third of the weight, acting together for many epochs: one member
/// fakes its artifacts, both vote for the fakes and against every honest entry, the faker's partner
/// delegates to it, and one member equivocates at the end. The honest nodes' certified tables stay
/// identical, no fake entry is ever accepted, and no honest entry is rejected by the coalition.
/// Seven genesis participants of equal weight; the coalition is two (2/7 < 1/3). The default run
/// covers 4 epochs; CHORUS_SLOW_TESTS=1 runs 20.
@Suite struct ByzantineCoalitionTests {
    typealias F = FixturesForTests
    static let keys = (1...7).map { F.key(UInt8($0)) }
    static let honest = 0..<5
    static let faker = 5
    static let accomplice = 6

    /// The devnet network file with two more genesis participants.
    static func parameters() throws -> NetworkParameters {
        var text = try String(contentsOfFile: RepositoryPathsForTests.devnetNetworkFile.path, encoding: .utf8)
        for key in keys[5...] { text += "\n[[participants]]\nid = \"\(key.publicKey.hex)\"\nweight = 1000\n" }
        return try NetworkFile.parse(text, file: "byzantine.toml")
    }

    @Test func aCoalitionBelowAThirdNeverDecidesAnEntry() throws {
        let epochs: UInt64 = ProcessInfo.processInfo.environment["CHORUS_SLOW_TESTS"] == "1" ? 20 : 4
        let p = try Self.parameters()
        var net = InMemoryDevnetForTests(parameters: p, keys: Self.keys, served: Array(repeating: [F.synthetic], count: 7),
                                         rates: Array(repeating: [F.synthetic: 40], count: 7))
        net.fakers = ["\(Self.faker)|\(F.synthetic)"]
        let clock = EpochClock(p)
        var seq: UInt64 = 1 << 62  // above any seq an engine signs (they start from the clock)
        var voted: Set<Bytes32> = []
        for epoch in 1...epochs {
            // The accomplice equivocates once the coalition has done the rest.
            if epoch == epochs {
                net.run(untilUnixMs: clock.start(of: .generation, epoch: epoch) + 8_000)
                if let honestCommit = net.published.last(where: { $0.type == .pocCommit && $0.author == Self.keys[Self.accomplice].publicKey && $0.epoch == epoch }) {
                    let body = try honestCommit.decodeBody(as: PoCCommitBody.self)
                    let twin = PoCCommitBody(model: body.model, count: body.count, root: Blake2b.hash256([0xee, UInt8(epoch)]),
                                             depth: body.depth, seedBasis: body.seedBasis)
                    net.inject(try F.sign(twin, key: Self.keys[Self.accomplice], epoch: epoch, seq: seq))
                    seq += 1
                }
            }
            // In the validation stage, both members vote valid on the fake and invalid on every honest
            // entry, with later seqs than their engines' own votes (so theirs are the ones counted).
            net.run(untilUnixMs: clock.end(of: .validation, epoch: epoch) - 1_000)
            let commits = net.published.filter { $0.type == .pocCommit && $0.epoch == epoch && !voted.contains($0.id) }
            for statement in commits {
                voted.insert(statement.id)
                guard let commit = try? PoCCommit(statement, parameters: p) else { continue }
                let forFake = statement.author == Self.keys[Self.faker].publicKey
                for member in [Self.faker, Self.accomplice] where Self.keys[member].publicKey != statement.author || forFake {
                    let (proof, _) = LeafSampler.sign(commit: statement, key: Self.keys[member])
                    let body = try Vote.body(for: commit, proof: proof, mismatches: forFake ? 0 : 20, parameters: p)
                    net.inject(try F.sign(body, key: Self.keys[member], epoch: epoch, seq: seq))
                    seq += 1
                }
            }
            net.run(untilUnixMs: clock.end(of: .tally, epoch: epoch) + 2_000)

            // Every honest node holds the same certified table.
            let tables = try Self.honest.map { try #require(net.finals[$0][epoch], "node \($0) has no final table for epoch \(epoch)").table }
            #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() }, "epoch \(epoch)")
            let table = tables[0]
            // No fake is ever accepted.
            let fakeRow = table.entry(Self.keys[Self.faker].publicKey.raw)?.models.first { $0.model == F.synthetic }
            #expect(fakeRow?.accepted != true, "epoch \(epoch): the fake was accepted")
            // No honest entry is rejected: every honest node keeps an accepted row with PoC weight.
            for i in Self.honest {
                let row = table.entry(Self.keys[i].publicKey.raw)?.models.first { $0.model == F.synthetic }
                #expect(row?.accepted == true && (row?.pocWeight ?? 0) > 0, "epoch \(epoch): honest node \(i) rejected")
            }
            // The coalition's votes were counted (not refused), so the outcome above is the rule's doing.
            let previous = epoch == 1 ? WeightTable.genesis(p) : try #require(net.finals[0][epoch - 1]).table
            let held = net.nodes[0].statements(epoch: epoch)
            let tally = try EpochInputs.tally(parameters: p, previous: previous, epoch: epoch, statements: held, beaconCommits: [],
                                              delegations: [], confirmations: [])
            if epoch < epochs {
                let fake = tally.outcomes.first { $0.participant == Self.keys[Self.faker].publicKey.raw }
                #expect((fake?.validPower ?? 0) > 0, "epoch \(epoch): the coalition's votes for the fake were not counted")
                #expect(tally.outcomes.contains { $0.participant == Self.keys[0].publicKey.raw && $0.invalidPower > 0 },
                        "epoch \(epoch): the coalition's votes against honest entries were not counted")
            }
            if epoch == epochs {
                #expect(table.equivocators.contains(Self.keys[Self.accomplice].publicKey.raw), "the equivocation was not caught")
            }
        }
        #expect(net.divergences.isEmpty || net.divergences.allSatisfy { d in !Self.honest.contains { d.hasPrefix("node \($0) ") } },
                "\(net.divergences)")
    }
}
