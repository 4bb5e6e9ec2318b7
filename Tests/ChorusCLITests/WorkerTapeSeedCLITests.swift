import Foundation
import Testing

/// `chorus worker generate --seed` takes a u64 or an inference seed (64 hex digits, the tape's
/// key): the same seed gives the same tokens, another seed other tokens, junk exits 2.
@Suite struct WorkerTapeSeedCLITests {
    func tokens(_ seed: String) throws -> [Int] {
        let result = try ChorusBinaryForTests.run(["worker", "generate", "--model", "synthetic:tiny", "--prompt", "abc", "--raw",
                                                   "--max-tokens", "8", "--temperature", "1", "--seed", seed, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(object["tokens"] as? [Int])
    }

    @Test func anInferenceSeedFixesTheTokens() throws {
        let seed = String(repeating: "ab", count: 32)
        let first = try tokens(seed)
        #expect(first.count == 8)
        #expect(try tokens(seed) == first)
        #expect(try tokens(String(repeating: "cd", count: 32)) != first)
        #expect(try tokens("42") == tokens("42"))
        let junk = try ChorusBinaryForTests.run(["worker", "generate", "--model", "synthetic:tiny", "--prompt", "abc", "--seed", "xyz"])
        #expect(junk.status == 2 && junk.stderr.contains("64 hex digits"), "\(junk.stderr)")
    }
}
