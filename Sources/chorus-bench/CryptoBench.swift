import ArgumentParser
import ChorusCrypto

/// `chorus-bench crypto`: libsodium primitives as the baseline.
struct CryptoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519 sign/verify, BLAKE2b throughput.",
        discussion: "All measurements run on the calling thread (one core)."
    )

    @Option(help: "Seconds to spend on each measurement.")
    var seconds: Double = 1.0

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let key = Ed25519.SigningKey.generate()
        let message = [UInt8](repeating: 0xab, count: 200)
        let signature = key.sign(message)

        let signPerS = BenchHarness.rate(seconds: seconds) { n in
            for _ in 0..<n { blackHole(key.sign(message)) }
        }
        let verifyPerS = BenchHarness.rate(seconds: seconds) { n in
            for _ in 0..<n { blackHole(key.publicKey.isValidSignature(signature, for: message)) }
        }
        let big = [UInt8](repeating: 0x5a, count: 1 << 20)
        let blakeBytesPerS = BenchHarness.rate(seconds: seconds) { n in
            for _ in 0..<n { blackHole(Blake2b.hash256(big)) }
        } * Double(big.count)

        let results: [String: Any] = [
            "sign_per_s": BenchHarness.rounded(signPerS, 0),
            "verify_per_s": BenchHarness.rounded(verifyPerS, 0),
            "blake2b_mb_per_s": BenchHarness.rounded(blakeBytesPerS / 1e6, 1),
        ]
        if json {
            BenchHarness.printJSON(results)
        } else {
            for (k, v) in results.sorted(by: { $0.key < $1.key }) { print("\(k): \(v)") }
        }
    }
}
