import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Testing

/// Restart from the store, the verify-only auditor, and liveness when the network starts late or
/// misses epochs.
@Suite struct EpochEngineRestartTests {
    typealias F = FixturesForTests

    static func network() -> InMemoryDevnetForTests {
        var net = EpochEngineTests.network()
        // Delegations keep enough voting weight signing when a node is briefly away.
        try? net.declare(node: 3, model: F.synthetic, action: .delegate(to: F.keys[0].publicKey.raw))
        try? net.declare(node: 4, model: F.smol, action: .delegate(to: F.keys[1].publicKey.raw))
        return net
    }

    /// A node restarted mid-generation of epoch 4 (its in-memory engine lost, epochs 1-3 pruned
    /// from other engines long ago) rebuilds every final table from its stored statements, keeps
    /// its `seq` rising without being told, and reaches the same tables as the others.
    @Test func restartFromStoreReachesTheSameTables() throws {
        let p = F.devnet
        let clock = EpochClock(p)
        var net = Self.network()
        net.run(untilUnixMs: clock.start(of: .generation, epoch: 4) + 7_000)
        let ownBefore = net.published.filter { $0.author == F.keys[0].publicKey }
        let highestSeq = try #require(ownBefore.map(\.seq).max())
        let replayed = net.restartFromStore(node: 0)
        let replayedFinals = replayed.compactMap { d -> WeightTable? in if case let .tableFinal(t, _) = d { return t } else { return nil } }
        #expect(replayedFinals.map(\.epoch) == [1, 2, 3])
        for table in replayedFinals {
            #expect(table.encodedBytes() == net.finals[1][table.epoch]?.table.encodedBytes(), "epoch \(table.epoch) replayed differently")
        }
        #expect(net.nodes[0].nextSeq > highestSeq)
        net.run(untilUnixMs: clock.end(of: .inference, epoch: 5))
        let ownAfter = net.published.filter { $0.author == F.keys[0].publicKey && !ownBefore.contains($0) }
        #expect(!ownAfter.isEmpty && ownAfter.allSatisfy { $0.seq > highestSeq })
        // Restarted during generation: no second reveal or beacon commitment, no equivocation.
        #expect(net.published.filter { $0.author == F.keys[0].publicKey && $0.type == .beaconReveal && $0.epoch == 4 }.count == 1)
        #expect(net.published.filter { $0.author == F.keys[0].publicKey && $0.type == .beaconCommit && $0.epoch == 3 }.count == 1)
        #expect(!net.published.contains { $0.type == .equivocationEvidence })
        for epoch: UInt64 in 4...5 {
            let tables = try net.finals.map { try #require($0[epoch], "epoch \(epoch) not final everywhere").table }
            #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
            #expect(tables[0].weight(of: F.keys[0].publicKey.raw) > 0)
        }
        #expect(net.divergences.isEmpty, "\(net.divergences)")
    }

    /// A statement that arrives after its epoch is final and would change the tally (here node 3's
    /// late refusal, signed in epoch 1, reaching everyone in epoch 3) is stored, so replaying
    /// epoch 2 recomputes another table. The stored certified table is taken instead (its
    /// certificate verified), and the restarted node goes on with the others. Without it, the
    /// chain would break at epoch 2.
    @Test func lateStatementAfterFinalityDoesNotBreakTheReplay() throws {
        let p = F.devnet
        let clock = EpochClock(p)
        var net = Self.network()
        net.run(untilUnixMs: clock.start(of: .generation, epoch: 3) + 3_000)
        let late = try F.sign(DelegationBody(model: F.synthetic, action: .refuse), key: F.keys[3], epoch: 1, seq: 1 << 40)
        net.inject(late)
        net.published.append(late)

        var probe = net
        let withoutStored = probe.restartFromStore(node: 0, storedFinals: false)
        #expect(withoutStored.contains { if case .divergence(2, _, _) = $0 { true } else { false } })
        #expect(!withoutStored.contains { if case let .tableFinal(t, _) = $0 { t.epoch == 2 } else { false } })

        let replayed = net.restartFromStore(node: 0)
        #expect(replayed.compactMap { if case let .tableFinal(t, _) = $0 { Optional(t.epoch) } else { Optional<UInt64>.none } } == [UInt64(1), 2])
        #expect(!replayed.contains { if case .divergence = $0 { true } else { false } })
        net.run(untilUnixMs: clock.end(of: .inference, epoch: 4))
        for epoch: UInt64 in 3...4 {
            let tables = try net.finals.map { try #require($0[epoch], "epoch \(epoch) not final everywhere").table }
            #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        }
    }

    /// The auditor holds every statement and derives the same final tables, bit for bit, but
    /// signs nothing and refuses to declare.
    @Test func auditorFollowsButNeverSigns() throws {
        let p = F.devnet
        var net = Self.network()
        let auditorKey = F.key(0xa0)
        net.addAuditor(key: auditorKey)
        // What it missed before it joined (the genesis delegations) it gets as anti-entropy would.
        for statement in net.published { net.inject(statement) }
        net.run(untilUnixMs: p.genesisUnixMs + 3 * Int64(p.stages.epochMs))
        #expect(!net.published.contains { $0.author == auditorKey.publicKey })
        let auditor = net.nodes.count - 1
        #expect(net.divergences.isEmpty, "\(net.divergences)")
        #expect(net.skipped.isEmpty, "\(net.skipped)")
        for epoch: UInt64 in 1...3 {
            let audited = try #require(net.finals[auditor][epoch], "auditor has no final table for epoch \(epoch)")
            #expect(audited.table.encodedBytes() == net.finals[0][epoch]?.table.encodedBytes())
            #expect(audited.certificate.tableDigest == net.finals[0][epoch]?.certificate.tableDigest)
            try audited.certificate.verify(networkID: p.networkID, previous: epoch == 1 ? .genesis(p) : net.finals[auditor][epoch - 1]!.table,
                                           threshold: p.voteThreshold)
        }
        #expect(throws: ProtocolError.notSigning(what: "delegation")) {
            try net.declare(node: auditor, model: F.smol, action: .refuse)
        }
        #expect(net.nodes[auditor].configuration.servedModels.isEmpty)
    }

    /// Nodes that come up after epoch 1's generation (here in epoch 2's validation stage) tally
    /// the epoch nobody tallied from the genesis table, certify it late, and go on: epoch 3 is
    /// generated and validated normally.
    @Test func networkStartingLateRecovers() throws {
        let p = F.devnet
        let clock = EpochClock(p)
        var net = EpochEngineTests.network()
        net.now = clock.start(of: .validation, epoch: 2)
        net.run(untilUnixMs: clock.end(of: .inference, epoch: 3))
        for epoch: UInt64 in 1...3 {
            let tables = try net.finals.map { try #require($0[epoch], "epoch \(epoch) not final everywhere").table }
            #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
        }
        // Epoch 3 ran normally: accepted PoC weight for the honest nodes.
        let table3 = try #require(net.finals[0][3]?.table)
        #expect(table3.entries.contains { $0.models.contains { $0.accepted && $0.pocWeight > 0 } })
        #expect(net.divergences.isEmpty, "\(net.divergences)")
    }

    /// The whole network is down for epochs 3 and 4 (back in epoch 5's validation stage): the
    /// missed epochs are tallied from the last final table (2) in order, certified late, and the
    /// network generates again in epoch 6.
    @Test func networkMissingEpochsRecovers() throws {
        let p = F.devnet
        let clock = EpochClock(p)
        var net = Self.network()
        net.run(untilUnixMs: clock.end(of: .inference, epoch: 2))
        net.now = clock.start(of: .validation, epoch: 5)
        net.run(untilUnixMs: clock.end(of: .inference, epoch: 6))
        for epoch: UInt64 in 1...6 {
            let tables = try net.finals.map { try #require($0[epoch], "epoch \(epoch) not final everywhere").table }
            #expect(tables.allSatisfy { $0.encodedBytes() == tables[0].encodedBytes() })
            if epoch > 1 { #expect(tables[0].previousDigest == net.finals[0][epoch - 1]?.table.digest) }
        }
        let table6 = try #require(net.finals[0][6]?.table)
        #expect(table6.entries.contains { $0.models.contains { $0.accepted && $0.pocWeight > 0 } })
    }
}
