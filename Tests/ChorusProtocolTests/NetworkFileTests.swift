import ChorusCrypto
import ChorusNetworkFile
import ChorusProtocol
import Foundation
import Testing

@Suite struct NetworkFileTests {
    static let devnetText: String = (try? String(contentsOf: RepositoryPathsForTests.devnetNetworkFile, encoding: .utf8)) ?? ""

    @Test func devnetFileLoads() throws {
        let p = try NetworkFile.load(path: RepositoryPathsForTests.devnetNetworkFile.path)
        #expect(p.networkID == "chorus-devnet")
        #expect(p.genesisUnixMs == 1_767_225_600_000)  // 2026-01-01T00:00:00Z
        #expect(p.models.map(\.id) == ["HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1", "chorus/synthetic-devnet"])
        #expect(p.voteThreshold == (try Ratio(2, 3)))
        let smol = try #require(p.model("HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"))
        #expect(smol.distThreshold == (try Ratio(1, 10)))
        #expect(smol.pMismatch == (try Ratio(1, 100)))
        #expect(smol.sampleSize == 200)
        let synthetic = try #require(p.model("chorus/synthetic-devnet"))
        #expect(synthetic.weightScaleFactor == (try Ratio(1, 5)))
        #expect(synthetic.digest == "blake2b:7cdf0dab018a69a01cf671235b4ec7c9a12e71948d4e9238a3a62c7779b70143")
        #expect(p.genesisParticipants.count == 5)
        #expect(p.genesisParticipants.map(\.id) == p.genesisParticipants.map(\.id).sorted())
        #expect(p.genesisParticipants.allSatisfy { $0.weight == 1000 })
        #expect(p.stages.epochMs == 60_000)
        #expect(p.caps.groupCapFactor.isZero)
    }

    @Test func sameFileSameDigestAndOneChangeMovesIt() throws {
        let a = try NetworkFile.parse(Self.devnetText, file: "a.toml")
        let b = try NetworkFile.parse(Self.devnetText, file: "b.toml")
        #expect(a.digest == b.digest)
        let changed = try NetworkFile.parse(Self.devnetText.replacingOccurrences(of: "p_mismatch = 0.01\np_value_threshold = 0.05\nsample_size = 200\nweight_scale_factor = 0.2", with: "p_mismatch = 0.01\np_value_threshold = 0.05\nsample_size = 201\nweight_scale_factor = 0.2"), file: "c.toml")
        #expect(changed.digest != a.digest)
    }

    /// Each case breaks one thing; the error must name the file, the key and the expectation.
    @Test(arguments: [
        ("p_mismatch = 0.01\np_value_threshold = 0.05\nsample_size = 200\nweight_scale_factor = 1.0", "p_mismatch = 1.5\np_value_threshold = 0.05\nsample_size = 200\nweight_scale_factor = 1.0", "p_mismatch", "strictly between 0 and 1"),
        ("seq_len = 8\n", "seq_len = \"eight\"\n", "models[0].seq_len", "an integer"),
        ("vote_threshold = \"2/3\"", "vote_threshold = \"2/0\"", "vote_threshold", "fraction"),
        ("vote_threshold = \"2/3\"", "vote_threshold = 0.4", "vote_threshold", "at least 1/2"),
        ("validation_ms = 20000", "validation_ms = 20000\nvalidation_msx = 1", "stages.validation_msx", "no such key"),
        ("tally_ms = 10000\n", "", "stages.tally_ms", "an integer"),
        ("k_dim = 12\ndist_threshold = 0.1", "k_dim = 16\ndist_threshold = 0.1", "k_dim", "12"),
        ("id = \"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\"", "id = \"8a88\"", "participants[0].id", "64 hex digits"),
        ("genesis_time = 2026-01-01T00:00:00Z", "genesis_time = \"tomorrow\"", "genesis_time", "date-time"),
        ("initial_model = \"HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1\"", "initial_model = \"no-such-model\"", "initial_model", "listed model"),
        ("weight = 1000\n", "weight = 0\n", "weight", "positive"),
        ("network_id = \"chorus-devnet\"", "network_id = \"Chorus Devnet\"", "network_id", "a-z"),
        ("network_id = \"chorus-devnet\"", "network_id = [", "", "valid TOML"),
    ])
    func brokenFilesNameKeyAndExpectation(original: String, replacement: String, key: String, expected: String) throws {
        #expect(Self.devnetText.contains(original), "test case no longer matches the devnet file")
        let text = Self.devnetText.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try NetworkFile.parse(text, file: "broken.toml")
            Issue.record("parsed a broken file (\(replacement))")
        } catch {
            #expect(error.file.hasPrefix("broken.toml"))
            #expect(key.isEmpty ? error.key.isEmpty : error.key.contains(key), "key \(error.key) should name \(key)")
            #expect(error.description.contains(expected), "\(error.description) should mention \(expected)")
        }
    }

    @Test func missingFileSaysSo() {
        #expect(throws: NetworkFileError.self) { try NetworkFile.load(path: "/nonexistent/network.toml") }
    }

    @Test func integerGenesisTimeIsMilliseconds() throws {
        let p = try NetworkFile.parse(Self.devnetText.replacingOccurrences(of: "genesis_time = 2026-01-01T00:00:00Z", with: "genesis_time = 1234"), file: "x")
        #expect(p.genesisUnixMs == 1234)
        let offset = try NetworkFile.parse(Self.devnetText.replacingOccurrences(of: "genesis_time = 2026-01-01T00:00:00Z", with: "genesis_time = 2026-01-01T01:00:00.250+01:00"), file: "x")
        #expect(offset.genesisUnixMs == 1_767_225_600_250)
    }
}

@Suite struct EpochClockTests {
    static let stages = StageDurations(generationMs: 15_000, validationMs: 20_000, tallyMs: 10_000, inferenceMs: 15_000, beaconRevealMs: 2_000)
    let clock = EpochClock(genesisUnixMs: 1_000_000, stages: EpochClockTests.stages)

    @Test func stagesFollowEachOther() throws {
        #expect(throws: ProtocolError.self) { try clock.position(atUnixMs: 999_999) }
        let cases: [(Int64, UInt64, EpochStage, UInt64)] = [
            (1_000_000, 1, .generation, 0), (1_014_999, 1, .generation, 14_999), (1_015_000, 1, .validation, 0),
            (1_035_000, 1, .tally, 0), (1_045_000, 1, .inference, 0), (1_059_999, 1, .inference, 14_999),
            (1_060_000, 2, .generation, 0), (1_000_000 + 60_000 * 41 + 36_000, 42, .tally, 1_000),
        ]
        for (t, epoch, stage, stageOffset) in cases {
            let p = try clock.position(atUnixMs: t)
            #expect(p.epoch == epoch && p.stage == stage && p.stageOffsetMs == stageOffset, "at \(t): \(p)")
            #expect(p.stageOffsetMs + p.stageRemainingMs == clock.duration(of: stage))
            #expect(clock.start(of: stage, epoch: epoch) == t - Int64(stageOffset))
        }
        #expect(clock.end(of: .inference, epoch: 1) == clock.start(of: .generation, epoch: 2))
        #expect(clock.revealDeadline(epoch: 2) == 1_062_000)
    }
}
