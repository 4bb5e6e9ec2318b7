import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Testing

/// `EpochEngine.auditTasks`: what a verify-only node re-checks with its worker. Its sample is its
/// own (its key's `LeafSampler` signature), its generation seeds are the provers', it covers only
/// the models it asks for, and it publishes nothing.
@Suite struct EpochEngineAuditTests {
    typealias F = FixturesForTests

    @Test func auditorSamplesEveryLatestCommitOfItsModelsWithItsOwnKey() throws {
        let p = F.devnet
        let clock = EpochClock(p)
        var net = EpochEngineTests.network()
        // Node 1 fabricates every tenth synthetic artifact.
        net.fakers.insert("1|\(F.synthetic)")
        let auditorKey = F.key(0xa1)
        net.addAuditor(key: auditorKey)
        let auditor = net.nodes.count - 1
        // An outsider's commit whose seed basis names nobody who revealed: inadmissible.
        let outsider = F.key(0xb1)
        let model = try #require(p.model(F.synthetic))
        let inadmissible = try F.sign(PoCCommitBody(model: F.synthetic, count: 5, root: Blake2b.hash256([1]), depth: model.treeDepth,
                                                    seedBasis: [outsider.publicKey.raw]), key: outsider, epoch: 1, seq: 1)
        net.run(untilUnixMs: clock.start(of: .generation, epoch: 1) + 2_000)
        net.inject(inadmissible)

        let due = clock.start(of: .validation, epoch: 1) + Int64(net.nodes[auditor].configuration.validationGraceMs)
        net.run(untilUnixMs: due - 500)
        #expect(net.nodes[auditor].auditTasks(epoch: 1, models: [F.synthetic], now: net.now).isEmpty, "before the validators sample")
        net.run(untilUnixMs: due + 1_000)
        let engine = net.nodes[auditor]

        let tasks = engine.auditTasks(epoch: 1, models: [F.synthetic], now: net.now)
        // Nodes 0, 1, 2 and 4 run the synthetic model; plus the outsider.
        let committers = Set(net.published.filter { $0.type == .pocCommit && $0.epoch == 1 && (try? $0.decodeBody(as: PoCCommitBody.self))?.model == F.synthetic }
            .map(\.author.raw)).union([outsider.publicKey.raw])
        #expect(Set(tasks.map(\.commit.author)) == committers && tasks.count == 5)
        #expect(tasks.allSatisfy { $0.commit.body.model == F.synthetic })
        let both = engine.auditTasks(epoch: 1, models: [F.synthetic, F.smol], now: net.now)
        #expect(both.filter { $0.commit.body.model == F.smol }.count == 4)
        #expect(engine.auditTasks(epoch: 1, models: [], now: net.now).isEmpty)
        #expect(engine.auditTasks(epoch: 1, models: [F.synthetic], now: net.now, excluding: Set(tasks.map(\.commit.statement.id))).isEmpty)

        for task in tasks {
            // The auditor's own sample: its key's signature, the indices LeafSampler draws from it.
            let (proof, seed) = LeafSampler.sign(commit: task.commit.statement, key: auditorKey)
            #expect(task.sampleProof == proof)
            #expect(task.indices == LeafSampler.indices(seed: seed, count: task.commit.body.count, sampleSize: model.sampleSize))
            #expect(task.indices.count == Int(min(UInt64(model.sampleSize), task.commit.body.count)))
            if task.commit.author == outsider.publicKey.raw {
                #expect(task.generationSeed == nil && task.validation == nil)
                #expect(try task.verdict(mismatches: UInt32(task.indices.count), parameters: p).verdict == .invalid)
                continue
            }
            // The prover's generation seed: its leaves reproduce under it (the worker double's artifact).
            let prover = try #require(net.nodes.firstIndex { $0.id == task.commit.author })
            let generationSeed = try #require(task.generationSeed)
            let validation = try #require(task.validation)
            #expect(validation.commit == task.commit && validation.generationSeed == generationSeed && validation.indices == task.indices)
            var mismatches: UInt32 = 0
            for index in task.indices {
                let leaf = try #require(net.nodes[prover].proof(epoch: 1, model: F.synthetic, index: index))
                try leaf.verify(root: task.commit.body.root, count: task.commit.body.count, depth: task.commit.body.depth, artifactLength: 24)
                let expected = InMemoryDevnetForTests.artifact(seed: generationSeed, participant: task.commit.author, model: F.synthetic, nonce: leaf.nonce)
                if leaf.artifact != expected { mismatches += 1 }
            }
            let verdict = try task.verdict(mismatches: mismatches, parameters: p)
            #expect(verdict.commit == task.commit.statement.id && verdict.samples == UInt32(task.indices.count))
            if prover == 1 {
                #expect(mismatches > 0 && verdict.verdict == .invalid, "the faker: \(mismatches) of \(task.indices.count)")
            } else {
                #expect(mismatches == 0 && verdict.verdict == .valid)
            }
        }
        // Never published: no vote, no statement of the auditor's key.
        #expect(!net.published.contains { $0.author == auditorKey.publicKey })
    }
}
