import Foundation
import Testing

/// `chorus worker …` end to end on synthetic models (the real model in its own tier below).
@Suite struct WorkerCLITests {
    static let seed = String(repeating: "c0ffee00", count: 8)
    static let participant = (0x20..<0x40).map { String(format: "%02x", $0) }.joined()

    static var pocVectors: [UInt64: String] {
        get throws {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Specs/vectors/poc-synthetic.json")
            let file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            let cases = try #require(file["cases"] as? [[String: Any]])
            let tiny = try #require(cases.first { $0["name"] as? String == "tiny" })
            let nonces = try #require(tiny["nonces"] as? [[String: Any]])
            var out: [UInt64: String] = [:]
            for n in nonces {
                out[UInt64(try #require(n["nonce"] as? Int))] = try #require(n["vector"] as? String)
            }
            return out
        }
    }

    static func lines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try jsonObject(String($0)) }
    }

    @Test func pocPrintsTheKernelsVectorsOneLinePerNonce() throws {
        let r = try ChorusBinaryForTests.run(["worker", "poc", "--model", "synthetic:tiny", "--seed", Self.seed,
                                              "--participant", Self.participant, "--nonces", "0..7", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try Self.lines(r.stdout)
        #expect(lines.map { $0["nonce"] as? Int } == Array(0...7))
        let expected = try Self.pocVectors
        // Same engine, same batch shapes as the reference would need only the distance bound;
        // the vectors here are bit-identical because the projection is exact.
        for line in lines {
            let nonce = UInt64(line["nonce"] as? Int ?? -1)
            #expect(line["vector"] as? String == expected[nonce], "nonce \(nonce)")
        }
    }

    @Test func pocSlotsSplitARangeWithoutOverlap() throws {
        var seen: [Int] = []
        for slot in 0..<3 {
            let r = try ChorusBinaryForTests.run(["worker", "poc", "--model", "synthetic:tiny", "--seed", Self.seed,
                                                  "--participant", Self.participant, "--nonces", "10..20",
                                                  "--offset", "\(slot)", "--stride", "3", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            seen += try Self.lines(r.stdout).compactMap { $0["nonce"] as? Int }
        }
        #expect(seen.sorted() == Array(10...20))
    }

    @Test func scoreAndTokenizePrintTheDocumentedShapes() throws {
        let t = try ChorusBinaryForTests.run(["worker", "tokenize", "--model", "synthetic:tiny", "--text", "Hi!", "--json"])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(try jsonObject(t.stdout)["tokens"] as? [Int] == [72, 105, 33])

        let s = try ChorusBinaryForTests.run(["worker", "score", "--model", "synthetic:tiny", "--prompt", "ab",
                                              "--completion", "cde", "--json"])
        #expect(s.status == 0, "\(s.stderr)")
        let object = try jsonObject(s.stdout)
        #expect(Set(object.keys) == ["prompt_tokens", "tokens", "logprobs", "top"])
        #expect(object["prompt_tokens"] as? [Int] == [97, 98])
        #expect(object["tokens"] as? [Int] == [99, 100, 101])
        let logprobs = try #require(object["logprobs"] as? [Double])
        #expect(logprobs.count == 3 && logprobs.allSatisfy { $0 < 0 })
        let top = try #require(object["top"] as? [[[Double]]])
        #expect(top.count == 3 && top.allSatisfy { $0.count == 5 && $0.allSatisfy { $0.count == 2 } })
    }

    @Test func calibrateProposesFactorsRelativeToTheBaseModel() throws {
        let r = try ChorusBinaryForTests.run(["worker", "calibrate", "--model", "synthetic:tiny", "--model", "synthetic:devnet",
                                              "--base", "synthetic:devnet", "--seconds", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try jsonObject(r.stdout)
        #expect(object["base_model"] as? String == "chorus/synthetic-devnet")
        let models = try #require(object["models"] as? [[String: Any]])
        #expect(models.compactMap { $0["model"] as? String } == ["chorus/synthetic-tiny", "chorus/synthetic-devnet"])
        let rates = models.compactMap { $0["nonces_per_s"] as? Double }
        let factors = models.compactMap { $0["weight_scale_factor"] as? Double }
        #expect(factors.last == 1)
        // The warm-up batch is run but not counted; the rate counts at least one batch after it.
        #expect(models.allSatisfy { ($0["warmup_nonces"] as? Int ?? 0) > 0 && ($0["nonces_done"] as? Int ?? 0) > 0 })
        // factor × rate is the base model's rate for every model: equal weight per second.
        if rates.count == 2, factors.count == 2 {
            #expect(abs(factors[0] * rates[0] - rates[1]) <= 0.01 * rates[1] + 0.1)
        }
        // Progress on stderr for each model's load, warm-up and measurement (stdout stays JSON).
        for step in ["[1/2] chorus/synthetic-tiny: loading", "[2/2] chorus/synthetic-devnet: measuring for 1.0 s"] {
            #expect(r.stderr.contains("calibrate: \(step)"), "\(r.stderr)")
        }
    }

    @Test func badInvocationsExitTwoWithAReason() throws {
        let range = try ChorusBinaryForTests.run(["worker", "poc", "--model", "synthetic:tiny", "--seed", Self.seed,
                                                  "--participant", Self.participant, "--nonces", "9..2"])
        #expect(range.status == 2 && range.stderr.contains("--nonces"))
        let model = try ChorusBinaryForTests.run(["worker", "tokenize", "--model", "synthetic:huge", "--text", "x"])
        #expect(model.status == 2 && model.stderr.contains("synthetic"))
        let seed = try ChorusBinaryForTests.run(["worker", "poc", "--model", "synthetic:tiny", "--seed", "abc",
                                                 "--participant", Self.participant, "--nonces", "1"])
        #expect(seed.status == 1 && seed.stderr.contains("seed"))
        let startAt = try ChorusBinaryForTests.run(["worker", "calibrate", "--model", "synthetic:tiny", "--model", "synthetic:devnet",
                                                    "--start-at", "1"])
        #expect(startAt.status == 2 && startAt.stderr.contains("--start-at"))
    }

    @Test func serveAnswersOtherCommandsOverHTTP() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-serve-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokenFile = dir + "/worker.token"
        // Loopback is not authentication: a TCP worker without a token refuses to start, and says how to get one.
        let refused = try ChorusBinaryForTests.run(["worker", "serve", "--listen", "127.0.0.1:0"])
        #expect(refused.status == 1 && refused.stderr.contains("--token-file"), "\(refused.stderr)")
        let server = try ServedWorkerForTests(arguments: ["worker", "serve", "--listen", "127.0.0.1:0", "--model", "synthetic:tiny",
                                                          "--token-file", tokenFile])
        defer { server.terminate() }
        // The token file was made for the server: 0600, 64 hex digits.
        let permissions = try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).count == 64)
        let anonymous = try ChorusBinaryForTests.run(["worker", "info", "--worker", server.url])
        #expect(anonymous.status == 1 && anonymous.stderr.contains("unauthorized"), "\(anonymous.stderr)")
        let info = try ChorusBinaryForTests.run(["worker", "info", "--worker", server.url, "--token-file", tokenFile, "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let models = try #require(try jsonObject(info.stdout)["models"] as? [[String: Any]])
        #expect(models.compactMap { $0["id"] as? String } == ["chorus/synthetic-tiny"])
        let local = try ChorusBinaryForTests.run(["worker", "poc", "--model", "synthetic:tiny", "--seed", Self.seed,
                                                  "--participant", Self.participant, "--nonces", "3..5", "--json"])
        let remote = try ChorusBinaryForTests.run(["worker", "poc", "--worker", server.url, "--token-file", tokenFile,
                                                   "--model", "chorus/synthetic-tiny",
                                                   "--seed", Self.seed, "--participant", Self.participant, "--nonces", "3..5", "--json"])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout == local.stdout)
        let gone = try ChorusBinaryForTests.run(["worker", "info", "--worker", "http://127.0.0.1:1", "--timeout", "1"])
        #expect(gone.status == 1 && gone.stderr.contains("cannot reach"))
        #expect(server.terminate() == 0)
    }
}

/// The real model through the CLI (opt-in tier: CHORUS_MODEL_TESTS=1, Tools/test-real-model.sh).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CHORUS_MODEL_TESTS"] == "1", "set CHORUS_MODEL_TESTS=1"))
struct WorkerCLIRealModelTests {
    @Test func generateAnswersTheCapitalOfFrance() throws {
        let r = try ChorusBinaryForTests.run(["worker", "generate", "--model", "smollm2-135m", "--prompt", "What is the capital of France?"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Paris"))
    }
}

/// `chorus worker serve` running in the background for a test; `url` comes from its READY line.
final class ServedWorkerForTests {
    let process = Process()
    let url: String
    private var exitStatus: Int32?

    init(arguments: [String]) throws {
        let binary = try #require(ChorusBinaryForTests.binaryURL)
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("READY ") else {
            process.terminate()
            throw ServeFailedForTests(output: text)
        }
        url = String(text.dropFirst("READY ".count))
    }

    struct ServeFailedForTests: Error { let output: String }

    /// Sends SIGTERM once and returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if let exitStatus { return exitStatus }
        process.terminate()
        process.waitUntilExit()
        exitStatus = process.terminationStatus
        return process.terminationStatus
    }
}
