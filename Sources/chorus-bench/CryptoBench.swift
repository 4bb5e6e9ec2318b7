import ArgumentParser
import ChorusCrypto
import ChorusNode
import ChorusStore
import ChorusWire
import Foundation

/// `chorus-bench crypto`: signing, verification and hashing (libsodium, the baseline), signed
/// statements, the statement ingest path, and LMDB. All on the calling thread (one core).
struct CryptoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519, BLAKE2b, signed statements, statement ingest and LMDB, against raw libsodium.",
        discussion: """
            ingest_per_s is decode + deduplicate + verify + store of fresh signed statements: \
            decoding, deduplication and verification on the calling thread, durable group \
            commits (every 4096 statements, as in the node) on the storage thread, timed until \
            everything is durable. verify_per_s is raw \
            libsodium Ed25519 verification of messages of the same length on the same thread. \
            Both are measured in alternating rounds and the medians are reported. The primary \
            rates are per second of process CPU time (all threads, so the storage thread's work \
            counts against ingest): throughput per core, unaffected by other processes. The \
            *_wall_s rates use wall-clock time. ingest_over_verify is the CPU-time ratio (target >= 0.8).
            """
    )

    @Option(help: "Alternating measurement rounds (medians are reported).")
    var rounds = 21

    @Option(help: "Statements per round.")
    var statements = 2000

    @Option(help: "Statements per ingest call (as a node hands over what arrived in one loop turn).")
    var batch = 256

    @Option(help: "Body size of the signed statements, in bytes.")
    var bodySize = 200

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let keys = (0..<16).map { _ in Ed25519.SigningKey.generate() }
        let body = [UInt8](repeating: 0x61, count: bodySize)
        let clock = ContinuousClock()

        // Statement encode (= sign) rate, and the statements the later rounds ingest.
        var pool: [[UInt8]] = []
        pool.reserveCapacity(rounds * statements)
        let signStart = clock.now
        for i in 0..<(rounds * statements) {
            let s = try SignedStatement.sign(networkID: "bench-net", type: .text, epoch: UInt64(i / 1000),
                                             seq: UInt64(i), body: body, key: keys[i % keys.count])
            pool.append(s.encoded)
        }
        let encodePerS = Double(pool.count) / (clock.now - signStart).seconds

        // Decode without verification, and decode + verify.
        let sample = Array(pool.prefix(statements))
        let decodePerS = BenchHarness.rate(seconds: 0.5, batch: sample.count) { _ in
            for bytes in sample { blackHole(try? UnverifiedStatement(decoding: bytes)) }
        }
        let decodeVerifyPerS = BenchHarness.rate(seconds: 0.5, batch: sample.count) { _ in
            for bytes in sample { blackHole(try? SignedStatement.decode(bytes)) }
        }

        // Raw verify baseline: messages as long as the statements' signed bytes.
        let message = BenchHarness.rawVerifyMessage(likeStatementOf: pool[0].count)
        let signature = keys[0].sign(message)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try StoreEnvironment.open(at: dir, schema: NodeSchema.schema)
        let writer = try StorageWriter(environment: env)
        defer { writer.close() }
        let store = try StatementStore(environment: env, writer: writer, policy: StatementPolicy(networkID: "bench-net", allowedTypes: nil))

        var verifyRates: [Double] = [], ingestRates: [Double] = []
        var verifyCPURates: [Double] = [], ingestCPURates: [Double] = []
        for r in 0..<rounds {
            let t0 = clock.now, c0 = ProcessCPUTime.now()
            var ok = 0
            for _ in 0..<statements where keys[0].publicKey.isValidSignature(signature, for: message) { ok += 1 }
            precondition(ok == statements)
            verifyRates.append(Double(statements) / (clock.now - t0).seconds)
            verifyCPURates.append(Double(statements) / (ProcessCPUTime.now() - c0))

            let slice = pool[(r * statements)..<((r + 1) * statements)]
            // The round ends when the storage thread has made every batch durable.
            let t1 = clock.now, c1 = ProcessCPUTime.now()
            var stored = 0
            var i = slice.startIndex
            while i < slice.endIndex {
                let end = min(i + batch, slice.endIndex)
                for outcome in try store.ingest(Array(slice[i..<end])) { if case .stored = outcome { stored += 1 } }
                i = end
            }
            let durable = DispatchSemaphore(value: 0)
            store.flush { result in
                if case let .failure(error) = result { fatalError("benchmark store failed: \(error)") }
                durable.signal()
            }
            durable.wait()
            precondition(stored == statements, "every fresh statement must be stored")
            ingestRates.append(Double(statements) / (clock.now - t1).seconds)
            ingestCPURates.append(Double(statements) / (ProcessCPUTime.now() - c1))
        }
        let verifyPerS = BenchHarness.median(verifyRates), ingestPerS = BenchHarness.median(ingestRates)
        let verifyPerCPUS = BenchHarness.median(verifyCPURates), ingestPerCPUS = BenchHarness.median(ingestCPURates)

        // BLAKE2b throughput and signing.
        let big = [UInt8](repeating: 0x5a, count: 1 << 20)
        let blakeBytesPerS = BenchHarness.rate(seconds: 0.5) { n in for _ in 0..<n { blackHole(Blake2b.hash256(big)) } } * Double(big.count)
        let signPerS = BenchHarness.rate(seconds: 0.5) { n in for _ in 0..<n { blackHole(keys[0].sign(message)) } }

        // LMDB: batched puts (1000 per durable commit) and gets, 32-byte keys, 200-byte values.
        let (putPerS, getPerS) = try lmdbRates(dir: dir + "-lmdb")

        let results: [String: Any] = [
            "sign_per_s": BenchHarness.rounded(signPerS, 0),
            "verify_per_s": BenchHarness.rounded(verifyPerCPUS, 0),
            "ingest_per_s": BenchHarness.rounded(ingestPerCPUS, 0),
            "ingest_over_verify": BenchHarness.rounded(ingestPerCPUS / verifyPerCPUS, 3),
            "verify_per_wall_s": BenchHarness.rounded(verifyPerS, 0),
            "ingest_per_wall_s": BenchHarness.rounded(ingestPerS, 0),
            "ingest_over_verify_wall": BenchHarness.rounded(ingestPerS / verifyPerS, 3),
            "statement_encode_per_s": BenchHarness.rounded(encodePerS, 0),
            "statement_decode_per_s": BenchHarness.rounded(decodePerS, 0),
            "statement_decode_verify_per_s": BenchHarness.rounded(decodeVerifyPerS, 0),
            "blake2b_mb_per_s": BenchHarness.rounded(blakeBytesPerS / 1e6, 1),
            "lmdb_batched_put_per_s": BenchHarness.rounded(putPerS, 0),
            "lmdb_get_per_s": BenchHarness.rounded(getPerS, 0),
            "rounds": rounds,
            "statements_per_round": statements,
            "statement_bytes": pool[0].count,
        ]
        if json {
            BenchHarness.printJSON(results)
        } else {
            for (k, v) in results.sorted(by: { $0.key < $1.key }) { print("\(k): \(v)") }
        }
    }

    private func lmdbRates(dir: String) throws -> (Double, Double) {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try StoreEnvironment.open(at: dir, schema: StoreSchema(tables: ["bench"]))
        let table: Table<Bytes32, [UInt8]> = try env.table("bench")
        let n = 100_000
        let keys = (0..<n).map { Blake2b.hash256([UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0 >> 16)]) }
        let value = [UInt8](repeating: 7, count: 200)
        let clock = ContinuousClock()
        let t0 = clock.now
        var i = 0
        while i < n {
            let end = min(i + 1000, n)
            try env.write { (txn: borrowing WriteTransaction) throws(StoreError) in
                for k in keys[i..<end] { try table.put(k, value, in: txn) }
            }
            i = end
        }
        let putPerS = Double(n) / (clock.now - t0).seconds
        let t1 = clock.now
        var found = 0
        try env.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            for k in keys { try table.withValue(k, in: txn) { _ in found += 1 } }
        }
        precondition(found == n)
        return (putPerS, Double(n) / (clock.now - t1).seconds)
    }
}
