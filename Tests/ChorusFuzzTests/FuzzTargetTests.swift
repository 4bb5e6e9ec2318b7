import ChorusCrypto
import ChorusFuzzTargets
import Foundation
import Testing

/// Every fuzz target over its seeds (Specs/vectors), deterministic mutations of them, and the
/// crash inputs that fuzzing found (`Regressions/TARGET/`). The fuzzers themselves run in
/// Tools/fuzz.sh; this keeps what they found fixed in the default test run.
@Suite struct FuzzTargetTests {
    /// A fixed sequence (ChorusCrypto's SplitMix64), so a failure here replays.
    typealias SplitMix = SplitMix64

    /// libFuzzer-like mutations: flip, set an interesting byte, insert, erase, duplicate a run, truncate.
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.below(3) {
            let interesting: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 2, 64]
            switch rng.below(6) {
            case 0 where !bytes.isEmpty: bytes[rng.below(bytes.count)] ^= UInt8(1 << rng.below(8))
            case 1 where !bytes.isEmpty: bytes[rng.below(bytes.count)] = interesting[rng.below(interesting.count)]
            case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(bytes.count + 1))
            case 3 where !bytes.isEmpty: bytes.remove(at: rng.below(bytes.count))
            case 4 where !bytes.isEmpty:
                let start = rng.below(bytes.count)
                let run = bytes[start..<min(bytes.count, start + 1 + rng.below(16))]
                bytes.insert(contentsOf: run, at: rng.below(bytes.count + 1))
            case 5: bytes = Array(bytes.prefix(rng.below(bytes.count + 1)))
            default: break
            }
        }
        return bytes
    }

    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")

    @Test func everyTargetHasSeeds() {
        for target in FuzzTargets.all {
            #expect(!FuzzSeeds.seeds(for: target.name).isEmpty, "no seeds for \(target.name)")
        }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func seedsAndMutations(_ name: String) {
        let target = FuzzTargets.named(name)!
        let seeds = FuzzSeeds.seeds(for: name)
        for seed in seeds { target.run(seed) }
        // Slow targets (files, JSON, signatures) get fewer mutations: the suite stays a few seconds.
        let count = ["gguf", "network-file", "epoch-export", "worker-json", "control-request", "swim-datagram",
                     "noise-handshake", "statement-body"].contains(name) ? 300 : 2000
        var rng = SplitMix(seed: 0xC0FFEE ^ UInt64(truncatingIfNeeded: name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        var corpus = seeds.isEmpty ? [[UInt8]()] : seeds
        for i in 0..<count {
            let input = Self.mutate(corpus[rng.below(corpus.count)], &rng)
            target.run(input)
            if i % 8 == 0 { corpus.append(input) }  // mutations of mutations, as a fuzzer would
        }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func regressions(_ name: String) throws {
        let target = FuzzTargets.named(name)!
        let directory = Self.regressions.appendingPathComponent(name)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for file in files.sorted() where !file.hasPrefix(".") {
            target.run(Array(try Data(contentsOf: directory.appendingPathComponent(file))))
        }
    }
}

extension SplitMix64 {
    /// A value in `0..<max(n, 1)`.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
