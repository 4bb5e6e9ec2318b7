import ArgumentParser
import ChorusCrypto
import ChorusLoop
import ChorusNode
import ChorusStore
import ChorusWire
import Foundation
import Logging
import Synchronization

/// `chorus-bench ingest`: a node taking anti-entropy batches from several peers at once.
struct IngestBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Sync batches from several peers at once: pool ingest rate, single-thread rate, loop lag.",
        discussion: """
            A node with a store takes `--peers` streams of `--batch`-statement sync batches (each \
            peer's next batch follows when its last is committed, as fetch answers do) through \
            the same intake as the network's sync messages: decode, deduplicate and verify on \
            the verification pool, commit on the loop, durable group commits on the storage \
            thread. Transport decryption is not included (chorus-bench transport measures it). \
            The same statements go once through a node with one verification thread and once \
            through a node with one per core, alternating rounds; medians are reported.

            ingest_per_s: statements per second until all are durable (wall clock). \
            pool_over_single: that rate with the pool over with one thread (target >= 1.7 on \
            2 cores). ingest_per_cpu_s over verify_per_cpu_s: statements per second of process \
            CPU time against raw libsodium verification on one thread (target >= 0.8). \
            loop_lag_p99_ms: a 1 ms repeating timer on the node's loop, how late it fired \
            (target <= 5 ms).

            Example: chorus-bench ingest --json
            """
    )

    @Option(help: "Peers sending at once.")
    var peers = 4

    @Option(help: "Statements per sync batch.")
    var batch = 4096

    @Option(help: "Batches each peer sends per round.")
    var batchesPerPeer = 4

    @Option(help: "Alternating rounds (raw verify, single thread, pool); medians are reported.")
    var rounds = 5

    @Option(help: "Verification threads of the pool (default: one per core).")
    var threads: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let poolThreads = threads ?? cores
        let perRound = peers * batchesPerPeer * batch
        // Signed by the receiving node's own key: the budget of weightless authors (16 MiB at
        // once for all of them, Specs/gossip.md) would otherwise stop a round this size. The
        // verification work is the same for any author.
        let nodeKey = Ed25519.SigningKey.generate()
        let body = [UInt8](repeating: 0x61, count: 200)
        // Distinct statements for every round and both runs of it.
        var statements: [[UInt8]] = []
        statements.reserveCapacity(rounds * perRound)
        for i in 0..<(rounds * perRound) {
            statements.append(try SignedStatement.sign(networkID: "bench-ingest", type: .text, epoch: 0, seq: UInt64(i + 1),
                                                       body: body, key: nodeKey).encoded)
        }
        var single: [Run] = [], pooled: [Run] = [], verifyRates: [Double] = []
        for round in 0..<rounds {
            // The baseline is measured in every round too, so drifts in clock speed hit both alike.
            verifyRates.append(rawVerifyPerCPUSecond(length: statements[0].count))
            let slice = Array(statements[(round * perRound)..<((round + 1) * perRound)])
            single.append(try ingest(slice, threads: 1, key: nodeKey))
            pooled.append(try ingest(slice, threads: poolThreads, key: nodeKey))
        }
        let singleRate = BenchHarness.median(single.map(\.perSecond)), poolRate = BenchHarness.median(pooled.map(\.perSecond))
        let poolCPU = BenchHarness.median(pooled.map(\.perCPUSecond)), verify = BenchHarness.median(verifyRates)
        let results: [String: Any] = [
            "ingest_per_s": BenchHarness.rounded(poolRate, 0),
            "single_thread_ingest_per_s": BenchHarness.rounded(singleRate, 0),
            "pool_over_single": BenchHarness.rounded(poolRate / singleRate, 3),
            "ingest_per_cpu_s": BenchHarness.rounded(poolCPU, 0),
            "verify_per_cpu_s": BenchHarness.rounded(verify, 0),
            "ingest_over_verify_per_core": BenchHarness.rounded(poolCPU / verify, 3),
            "loop_lag_p99_ms": BenchHarness.rounded(BenchHarness.median(pooled.map(\.lagP99Milliseconds)), 2),
            "loop_lag_max_ms": BenchHarness.rounded(pooled.map(\.lagMaxMilliseconds).max() ?? 0, 2),
            "single_thread_loop_lag_p99_ms": BenchHarness.rounded(BenchHarness.median(single.map(\.lagP99Milliseconds)), 2),
            "threads": poolThreads, "cores": cores, "peers": peers, "batch": batch,
            "statements_per_round": perRound, "rounds": rounds,
        ]
        if json {
            BenchHarness.printJSON(results)
        } else {
            for (k, v) in results.sorted(by: { $0.key < $1.key }) { print("\(k): \(v)") }
        }
    }

    struct Run {
        let perSecond: Double
        let perCPUSecond: Double
        let lagP99Milliseconds: Double
        let lagMaxMilliseconds: Double
    }

    /// One node with a fresh store takes `statements` from `peers` streams; returns when all are durable.
    private func ingest(_ statements: [[UInt8]], threads: Int, key: Ed25519.SigningKey) throws -> Run {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-bench-ingest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try StoreEnvironment.open(at: dir, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: env)
        defer { writer.close() }
        let store = try StatementStore(environment: env, writer: writer,
                                       policy: StatementPolicy(networkID: "bench-ingest", allowedTypes: nil))
        let loop = try EventLoop(name: "bench-ingest")
        defer { loop.shutdown() }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var configuration = NodeConfiguration(networkID: "bench-ingest", listen: [])
        configuration.verificationThreads = threads
        let node = Node(configuration: configuration, signingKey: key, peerStore: nil, statements: store,
                        loop: loop, logger: logger)
        let senders = (0..<peers).map { _ in Ed25519.SigningKey.generate().publicKey }
        let batches = stride(from: 0, to: statements.count, by: batch).map { Array(statements[$0..<min($0 + batch, statements.count)]) }
        let probe = LagProbe()
        let finished = DispatchSemaphore(value: 0)
        let progress = Mutex((stored: 0, streams: peers))

        let clock = ContinuousClock()
        let t0 = clock.now, c0 = ProcessCPUTime.now()
        _ = loop.execute {
            probe.start(on: loop)
            for (p, sender) in senders.enumerated() {
                // Peer p sends batches p, p + peers, p + 2·peers, …, each after the last is committed.
                let mine = Array(stride(from: p, to: batches.count, by: senders.count).map { batches[$0] })
                Self.feed(node, mine, index: 0, from: sender) { stored in
                    let done = progress.withLock { state -> Bool in
                        state.stored += stored
                        state.streams -= 1
                        return state.streams == 0
                    }
                    if done { finished.signal() }
                }
            }
        }
        finished.wait()
        let durable = DispatchSemaphore(value: 0)
        store.flush { _ in durable.signal() }
        durable.wait()
        let elapsed = (clock.now - t0).seconds, cpu = ProcessCPUTime.now() - c0
        let lags = probe.stop(on: loop)
        let stored = progress.withLock { $0.stored }
        precondition(stored == statements.count, "every fresh statement must be stored (\(stored) of \(statements.count))")
        let sorted = lags.sorted()
        let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        let stop = DispatchSemaphore(value: 0)
        Task { await node.stop(); stop.signal() }
        stop.wait()
        return Run(perSecond: Double(stored) / elapsed, perCPUSecond: Double(stored) / cpu,
                   lagP99Milliseconds: p99 * 1000, lagMaxMilliseconds: (sorted.last ?? 0) * 1000)
    }

    /// Hands `batches[index]` to the node on its loop, and the next once that one is committed.
    private static func feed(_ node: Node, _ batches: [[[UInt8]]], index: Int, from sender: Ed25519.PublicKey,
                             stored: Int = 0, finished: @escaping @Sendable (Int) -> Void) {
        guard index < batches.count else { return finished(stored) }
        node.assumeIsolated { node in
            node.ingestSynced(batches[index], from: sender) { result in
                feed(node, batches, index: index + 1, from: sender, stored: stored + result.stored, finished: finished)
            }
        }
    }

    /// Raw libsodium verification of messages as long as the statements' signed bytes, on this thread.
    private func rawVerifyPerCPUSecond(length: Int) -> Double {
        let key = Ed25519.SigningKey.generate()
        let message = BenchHarness.rawVerifyMessage(likeStatementOf: length)
        let signature = key.sign(message)
        let c0 = ProcessCPUTime.now()
        var ok = 0
        for _ in 0..<20_000 where key.publicKey.isValidSignature(signature, for: message) { ok += 1 }
        precondition(ok == 20_000)
        return 20_000 / (ProcessCPUTime.now() - c0)
    }
}

/// A 1 ms repeating timer on a loop that records how late each firing came: what a SWIM probe or a
/// keepalive on that loop would wait.
///
/// `@unchecked Sendable` invariant: `timer`, `last` and `lags` are touched only on the loop thread
/// (`start` and the timer's handler run there; `stop` hops onto the loop and waits).
final class LagProbe: @unchecked Sendable {
    private var timer: LoopTimer?
    private var last: ContinuousClock.Instant?
    private var lags: [Double] = []
    static let interval: Duration = .milliseconds(1)

    func start(on loop: EventLoop) {
        let timer = LoopTimer(on: loop)
        self.timer = timer
        last = .now
        timer.schedule(after: Self.interval, repeatingEvery: Self.interval) { [self] in
            let now = ContinuousClock.now
            if let last { lags.append(max(0, (now - last - Self.interval).seconds)) }
            last = now
        }
    }

    /// Stops the timer and returns the lags, in seconds.
    func stop(on loop: EventLoop) -> [Double] {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<[Double]>([])
        _ = loop.execute { [self] in
            timer?.close()
            result.withLock { $0 = lags }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }
}
