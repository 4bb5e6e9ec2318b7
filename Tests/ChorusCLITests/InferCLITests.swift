import Foundation
import Testing

/// `chorus infer` says what is missing when it cannot reach an API (the happy path runs against a
/// devnet with SmolLM2: README "OpenAI-compatible API", Tools/openai_client_check.py).
@Suite struct InferCLITests {
    @Test func aNodeWithoutAnAPISaysHowToGetOne() throws {
        let dir = try TemporaryDirectoryForTests()
        let dataDir = dir.file("node")
        #expect(try ChorusBinaryForTests.run(["init", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], binary: "chorusd").status == 0)
        let noAPI = try ChorusBinaryForTests.run(["infer", "--data-dir", dataDir, "--model", "m", "--prompt", "hi"])
        #expect(noAPI.status == 1 && noAPI.stderr.contains("has no api_listen"), "\(noAPI.stderr)")
        let neither = try ChorusBinaryForTests.run(["infer", "--model", "m", "--prompt", "hi"])
        #expect(neither.status == 2 && neither.stderr.contains("--api URL or --data-dir"), "\(neither.stderr)")
        // Port 1 on loopback: nothing listens there.
        let unreachable = try ChorusBinaryForTests.run(["infer", "--api", "http://127.0.0.1:1", "--model", "m", "--prompt", "hi"])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("cannot reach the API at http://127.0.0.1:1"), "\(unreachable.stderr)")
    }
}
