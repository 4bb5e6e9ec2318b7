import ChorusCrypto
import ChorusProtocol
import ChorusWire

/// Five (or more) `EpochEngine`s wired together in memory with a manual clock: every published
/// statement reaches every node at once, a hash-based worker double stands in for the PoC kernel,
/// and validation tasks are carried out against the other engines' trees.
struct InMemoryDevnetForTests {
    struct Generating {
        let epoch: UInt64
        let seed: Bytes32
        let until: Int64
        var nextNonce: UInt64
        /// The confirmation window this job measures; nil for the generation stage.
        var window: UInt32? = nil
    }

    var parameters: NetworkParameters
    var nodes: [EpochEngine]
    var keys: [Ed25519.SigningKey]
    /// Artifacts per tick per model, per node.
    var rates: [[String: UInt64]]
    /// "node|model" pairs that fabricate every tenth artifact.
    var fakers: Set<String> = []
    /// Nodes whose worker double ignores confirmation windows (they read zero).
    var confirmationSkippers: Set<Int> = []
    var generating: [[String: Generating]]
    var finals: [[UInt64: (table: WeightTable, certificate: Certificate)]]
    var divergences: [String] = []
    var skipped: [String] = []
    var confirmationWindows: [[UInt64: [ConfirmationPoC.Window]]]
    var now: Int64
    /// Statements held back from a node until a time (a partition that heals), by predicate.
    var withholding: [(node: Int, until: Int64, matches: @Sendable (SignedStatement) -> Bool)] = []
    private var deferred: [(node: Int, at: Int64, statement: SignedStatement)] = []
    /// Every statement published, in order (for equivocation and export checks).
    var published: [SignedStatement] = []

    init(parameters: NetworkParameters, keys: [Ed25519.SigningKey], served: [[String]], rates: [[String: UInt64]]) {
        self.parameters = parameters
        self.keys = keys
        self.rates = rates
        nodes = keys.enumerated().map { i, key in
            EpochEngine(parameters: parameters, key: key, configuration: .init(servedModels: served[i]), beaconSecret: Self.beaconSecret(node: i))
        }
        generating = Array(repeating: [:], count: keys.count)
        finals = Array(repeating: [:], count: keys.count)
        confirmationWindows = Array(repeating: [:], count: keys.count)
        now = parameters.genesisUnixMs
    }

    /// A node's beacon secrets: deterministic per node and epoch, as a restarted node needs them.
    static func beaconSecret(node: Int) -> @Sendable (UInt64) -> Bytes32 {
        let seedByte = UInt8(node)
        return { epoch in Blake2b.hash256([seedByte] + withUnsafeBytes(of: epoch.littleEndian, Array.init)) }
    }

    /// Replaces node `i` by a fresh engine restored as a shell would after a crash: stored
    /// statements replayed, a tick, then the current epoch's stored artifacts.
    mutating func restart(node i: Int) {
        let old = nodes[i]
        var fresh = EpochEngine(
            parameters: parameters, key: keys[i], configuration: old.configuration, firstSeq: old.nextSeq, beaconSecret: Self.beaconSecret(node: i))
        let epoch = (try? EpochClock(parameters).position(atUnixMs: now))?.epoch ?? 0
        for e in 0...epoch {
            for statement in old.statements(epoch: e) { _ = fresh.onStatement(statement, now: now) }
        }
        resume(node: i, with: fresh, replacing: old, epoch: epoch)
    }

    /// Adds a verify-only engine (`Configuration.auditor`) that receives everything and signs nothing.
    mutating func addAuditor(key: Ed25519.SigningKey) {
        keys.append(key)
        rates.append([:])
        nodes.append(EpochEngine(parameters: parameters, key: key, configuration: .auditor, beaconSecret: Self.beaconSecret(node: nodes.count)))
        generating.append([:])
        finals.append([:])
        confirmationWindows.append([:])
    }

    /// Replaces node `i` by a fresh engine restored the way the node shell does it from its
    /// statement store: every statement published so far (by anyone, itself included) that it
    /// received, replayed epoch by epoch from genesis with `firstSeq` 1, then a tick, then the
    /// current epoch's artifacts. Returns the replay's directives.
    @discardableResult
    mutating func restartFromStore(node i: Int, storedFinals: Bool = true) -> [EngineDirective] {
        let old = nodes[i]
        var fresh = EpochEngine(parameters: parameters, key: keys[i], configuration: old.configuration, beaconSecret: Self.beaconSecret(node: i))
        let epoch = (try? EpochClock(parameters).position(atUnixMs: now))?.epoch ?? 0
        let delivered = published.filter { s in !withholding.contains { $0.node == i && $0.until > now && $0.matches(s) } }
        var replayed: [EngineDirective] = []
        for e in 0...(epoch + 1) {
            replayed += fresh.replay(epoch: e, statements: delivered.filter { $0.epoch == e }, final: storedFinals ? finals[i][e] : nil, now: now)
        }
        for d in replayed {
            if case let .tableFinal(table, certificate) = d { finals[i][table.epoch] = (table, certificate) }
            if case let .divergence(epoch, own, final) = d { divergences.append("node \(i) epoch \(epoch) (replay): own \(own.hex.prefix(12)) final \(final.hex.prefix(12))") }
        }
        resume(node: i, with: fresh, replacing: old, epoch: epoch)
        return replayed
    }

    /// The end of both restarts: the first tick, then the current epoch's artifacts as the node's
    /// artifact table would give them back, and the worker keeps its place (nonces already
    /// computed are not repeated).
    private mutating func resume(node i: Int, with fresh: EpochEngine, replacing old: EpochEngine, epoch: UInt64) {
        var fresh = fresh
        let directives = fresh.onTick(now: now)
        for model in old.configuration.servedModels {
            var restored: [(nonce: UInt64, artifact: [UInt8])] = []
            var index: UInt64 = 0
            while let proof = old.proof(epoch: epoch, model: model, index: index) {
                restored.append((proof.nonce, proof.artifact))
                index += 1
            }
            _ = fresh.onArtifacts(epoch: epoch, model: model, artifacts: restored, now: now)
        }
        let workers = generating[i]
        nodes[i] = fresh
        handle(directives, from: i)
        for (model, state) in workers { generating[i][model]?.nextNonce = state.nextNonce }
    }

    /// The worker double's artifact: 24 bytes of H(seed ‖ participant ‖ model ‖ nonce).
    static func artifact(seed: Bytes32, participant: Bytes32, model: String, nonce: UInt64) -> [UInt8] {
        Array(Blake2b.hash256(seed.bytes + participant.bytes + Array(model.utf8) + withUnsafeBytes(of: nonce.littleEndian, Array.init)).bytes.prefix(24))
    }

    /// Delivers a statement signed outside the engines (an attacker's) to every node.
    mutating func inject(_ statement: SignedStatement) {
        for j in nodes.indices { handle(nodes[j].onStatement(statement, now: now), from: j) }
    }

    mutating func declare(node: Int, model: String, action: DelegationAction) throws {
        let directives = try nodes[node].declare(model: model, action: action, now: now)
        handle(directives, from: node)
    }

    mutating func run(untilUnixMs end: Int64, tickMs: Int64 = 500) {
        while now < end {
            let due = deferred.filter { $0.at <= now }
            deferred.removeAll { $0.at <= now }
            for d in due { handle(nodes[d.node].onStatement(d.statement, now: now), from: d.node) }
            for i in nodes.indices { handle(nodes[i].onTick(now: now), from: i) }
            for i in nodes.indices { work(node: i) }
            now += tickMs
        }
    }

    private mutating func work(node i: Int) {
        for (model, state) in generating[i] where now < state.until {
            var g = state
            var artifacts: [(nonce: UInt64, artifact: [UInt8])] = []
            for _ in 0..<(rates[i][model] ?? 0) {
                let nonce = g.nextNonce
                g.nextNonce += 1
                let fake = fakers.contains("\(i)|\(model)") && nonce % 10 == 0
                let artifact = fake ? Array(repeating: 0xfa, count: 24) : Self.artifact(seed: g.seed, participant: keys[i].publicKey.raw, model: model, nonce: nonce)
                artifacts.append((nonce, artifact))
            }
            generating[i][model] = g
            if let window = g.window {
                handle(nodes[i].onConfirmationArtifacts(epoch: g.epoch, window: window, model: model, artifacts: artifacts, now: now), from: i)
            } else {
                handle(nodes[i].onArtifacts(epoch: g.epoch, model: model, artifacts: artifacts, now: now), from: i)
            }
        }
    }

    private mutating func handle(_ directives: [EngineDirective], from origin: Int) {
        var queue = directives.map { (origin, $0) }
        while !queue.isEmpty {
            let (i, directive) = queue.removeFirst()
            switch directive {
            case let .publish(statement):
                published.append(statement)
                for j in nodes.indices where j != i {
                    if let w = withholding.first(where: { $0.node == j && $0.until > now && $0.matches(statement) }) {
                        deferred.append((j, w.until, statement))
                        continue
                    }
                    queue += nodes[j].onStatement(statement, now: now).map { (j, $0) }
                }
            case let .startGeneration(epoch, model, seed, until):
                generating[i][model] = Generating(epoch: epoch, seed: seed, until: until, nextNonce: 0)
            case let .startConfirmation(epoch, window, model, seed, until):
                if !confirmationSkippers.contains(i) { generating[i][model] = Generating(epoch: epoch, seed: seed, until: until, nextNonce: 0, window: window) }
            case let .stopGeneration(_, model):
                generating[i][model] = nil
            case let .validate(task):
                queue += nodes[i].onValidationResult(commit: task.commit.statement.id, mismatches: mismatches(task), now: now).map { (i, $0) }
            case let .tableFinal(table, certificate):
                finals[i][table.epoch] = (table, certificate)
            case let .divergence(epoch, own, final):
                divergences.append("node \(i) epoch \(epoch): own \(own.hex.prefix(12)) final \(final.hex.prefix(12))")
            case let .confirmationWindow(epoch, window):
                confirmationWindows[i][epoch, default: []].append(window)
            case let .skipped(epoch, reason):
                skipped.append("node \(i) epoch \(epoch): \(reason)")
            case .tableComputed:
                break
            }
        }
    }

    /// Fetches each sampled proof from the participant's engine, verifies it against the commit
    /// and recomputes the artifact; missing, wrong or different leaves are mismatches.
    private func mismatches(_ task: ValidationTask) -> UInt32 {
        let commit = task.commit
        guard let p = nodes.firstIndex(where: { $0.id == commit.author }) else { return UInt32(task.indices.count) }
        var bad: UInt32 = 0
        let window = (try? commit.statement.decodeBody(as: ConfirmationCommitBody.self))?.window
        for index in task.indices {
            let served = window.map { nodes[p].confirmationProof(epoch: commit.epoch, window: $0, model: commit.body.model, index: index) }
                ?? nodes[p].proof(epoch: commit.epoch, model: commit.body.model, index: index)
            guard let proof = served,
                  (try? proof.verify(root: commit.body.root, count: commit.body.count, depth: commit.body.depth, artifactLength: 24)) != nil,
                  proof.artifact == Self.artifact(seed: task.generationSeed, participant: commit.author, model: commit.body.model, nonce: proof.nonce)
            else {
                bad += 1
                continue
            }
        }
        return bad
    }
}
