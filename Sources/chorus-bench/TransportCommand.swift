import ArgumentParser
import ChorusCrypto
import ChorusLoop

/// `chorus-bench transport`: the encrypted session against raw libuv TCP, measured in the same run.
struct TransportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Session throughput (Noise, framing, queues) vs raw libuv TCP, and handshakes per second.",
        discussion: """
            Each run measures, alternately, raw TCP and the session for small (200 B) and large \
            (65535 B, the largest single frame) messages; medians are reported with the ratios \
            session_over_raw_200 and session_over_raw_64k. aead_seal_mb_per_s is libsodium's \
            ChaCha20-Poly1305 on one core, the ceiling for any session (session_over_aead_64k).
            """
    )

    @Option(name: .long, help: "Messages per measurement for 200-byte messages.")
    var smallCount = 200_000
    @Option(name: .long, help: "Messages per measurement for 64 KiB messages.")
    var largeCount = 6_000
    @Option(name: .long, help: "Sequential TCP handshakes measured.")
    var handshakes = 300
    @Option(name: .long, help: "Runs; medians are reported.")
    var runs = 3
    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    static let small = 200
    static let large = 65_535

    func run() async throws {
        guard runs > 0, smallCount > 0, largeCount > 0, handshakes > 0 else { throw ValidationError("counts and --runs must be positive") }
        var samples: [String: [Double]] = [:]
        func record(_ key: String, _ value: Double) { samples[key, default: []].append(value) }
        let pair = try await SessionBenchmark.Pair.connect()
        for run in 1...runs {
            for (size, count, label) in [(Self.small, smallCount, "200"), (Self.large, largeCount, "64k")] {
                let raw = try await RawTCPBenchmark.run(messageSize: size, count: count)
                let session = try await SessionBenchmark.run(pair, messageSize: size, count: count)
                record("raw_msgs_per_s_\(label)", raw.messagesPerSecond)
                record("raw_mb_per_s_\(label)", raw.bytesPerSecond / 1e6)
                record("session_msgs_per_s_\(label)", session.messagesPerSecond)
                record("session_mb_per_s_\(label)", session.bytesPerSecond / 1e6)
                record("session_over_raw_\(label)", session.messagesPerSecond / raw.messagesPerSecond)
                if !json {
                    print("run \(run) \(size) B: raw \(Int(raw.messagesPerSecond)) msg/s \(Int(raw.bytesPerSecond / 1e6)) MB/s; "
                          + "session \(Int(session.messagesPerSecond)) msg/s \(Int(session.bytesPerSecond / 1e6)) MB/s")
                }
            }
        }
        // The cipher's own rate bounds the session: every byte is sealed on one core and opened on another.
        let key = SecretBytes.random(count: 32), plaintext = [UInt8](repeating: 0x5A, count: Self.large - 16)
        let seals = BenchHarness.rate(seconds: 0.5) { _ in
            blackHole(try? ChaChaPoly.seal(key: key, nonce: ChaChaPoly.noiseNonce(1), plaintext: plaintext))
        }
        let aeadMBPerSecond = seals * Double(plaintext.count) / 1e6
        record("aead_seal_mb_per_s", aeadMBPerSecond)
        record("session_over_aead_64k", samples["session_mb_per_s_64k"]!.sorted()[runs / 2] / aeadMBPerSecond)
        // The best ratio any ChaCha20-Poly1305 session could reach against this raw baseline on one core per side.
        record("aead_over_raw_64k", aeadMBPerSecond / samples["raw_mb_per_s_64k"]!.sorted()[runs / 2])
        record("handshakes_per_s_in_memory", HandshakeBenchmark.inMemoryPerSecond(seconds: 1))
        let address = try SocketAddress(parsing: await pair.receiver.status().listenAddresses[0])
        record("handshakes_per_s_tcp", try await HandshakeBenchmark.overTCP(to: address, networkID: "bench", count: handshakes))
        await pair.close()

        var result: [String: Any] = ["runs": runs, "small_message_bytes": Self.small, "large_message_bytes": Self.large,
                                     "small_count": smallCount, "large_count": largeCount]
        for (key, values) in samples {
            let median = values.sorted()[values.count / 2]
            result[key] = BenchHarness.rounded(median, key.contains("over") ? 3 : 1)
        }
        if json { return BenchHarness.printJSON(result) }
        for key in result.keys.sorted() { print("\(key): \(result[key]!)") }
    }
}
