import ChorusWorkerAPI
import Foundation
import Testing
@testable import ChorusCompute

/// chorus-poc/1 on SmolLM2-135M-Instruct Q4_1 against the numpy reference (real-model tier).
@Suite(.enabled(if: RealModelTier.enabled, "set CHORUS_MODEL_TESTS=1 (Tools/test-real-model.sh)"), .serialized)
struct PoCRealModelTests {
    @Test func smolLM2MatchesNumpyReference() throws {
        let file = try PoCVectorFiles.load(PoCVectorFiles.KernelFile.self, "poc-smollm2.json")
        #expect(try FileDigest.sha256(path: RealModelTests.modelPath) == file.model_digest)
        let model = try RealModelTests.loaded.get()
        for c in file.cases {
            let worst = try PoCVectorFiles.checkCase(c, model: model.model) { ok, what in
                #expect(ok, "\(c.model_id): \(what)")
            }
            #expect(worst <= c.dist_threshold / 10)
        }
    }
}
