import ChorusCrypto
import Foundation

/// Runs a body repeatedly and reports operations per second. The first `warmup` fraction of
/// the time budget is discarded so caches, page faults and CPU frequency settle first.
enum BenchHarness {
    /// Calls `body(batch)` until at least `seconds` have elapsed (after a short warm-up) and returns
    /// the number of operations per second, where `body` performs `batch` operations per call.
    static func rate(seconds: Double, batch: Int = 1, _ body: (Int) -> Void) -> Double {
        let clock = ContinuousClock()
        let warmupEnd = clock.now.advanced(by: .milliseconds(Int(seconds * 100)))
        while clock.now < warmupEnd { body(batch) }
        var ops = 0
        let start = clock.now
        let budget = Duration.milliseconds(Int(seconds * 1000))
        var elapsed = Duration.zero
        repeat {
            body(batch)
            ops += batch
            elapsed = clock.now - start
        } while elapsed < budget
        return Double(ops) / elapsed.seconds
    }

    /// The median of `xs` (0 when empty): what rounds of a benchmark report.
    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A message as long as the bytes a `text` statement of `length` encoded bytes signs (its
    /// encoding without the signature, after the domain tag and its separator): the raw-verify
    /// baseline that statement ingest is compared with.
    static func rawVerifyMessage(likeStatementOf length: Int) -> [UInt8] {
        [UInt8](repeating: 0x5a, count: length - Ed25519.signatureLength + "chorus/v1/text".utf8.count + 1)
    }

    static func printJSON(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func rounded(_ x: Double, _ places: Int = 3) -> Double {
        let p = pow(10.0, Double(places))
        return (x * p).rounded() / p
    }
}

extension Duration {
    var seconds: Double {
        let (s, attos) = components
        return Double(s) + Double(attos) / 1e18
    }
}

/// Keeps the optimiser from deleting benchmark work whose result is otherwise unused.
@inline(never)
func blackHole<T>(_ value: T) { _ = value }

/// CPU time consumed by this process (all threads), in seconds: a per-core cost that other
/// processes on a busy machine do not inflate, unlike wall-clock time.
enum ProcessCPUTime {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
