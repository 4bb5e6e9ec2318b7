import ChorusWorkerAPI
import Testing
@testable import ChorusCompute

@Suite struct ScoringSimilarityTests {
    static let top: [[TopEntry]] = [[.init(id: 5, logprob: -0.1), .init(id: 7, logprob: -2.5), .init(id: 9, logprob: -3.0)],
                                    [.init(id: 1, logprob: -0.5), .init(id: 2, logprob: -1.0), .init(id: 3, logprob: -4.0)]]

    @Test func identicalScoresAreFullySimilar() {
        #expect(ScoringSimilarity.similarity(originalTokens: [5, 1], original: Self.top, validatorTokens: [5, 1], validator: Self.top) == 1)
    }

    @Test func differentTokensAreNotSimilar() {
        #expect(ScoringSimilarity.similarity(originalTokens: [5, 1], original: Self.top, validatorTokens: [5, 2], validator: Self.top) == 0)
    }

    @Test func deviationsFollowTheFormula() {
        var v = Self.top
        v[0][0].logprob = -0.2          // |−0.2 − −0.1| / (1e-6 + 0.3) / 2 ≈ 0.1667
        v[1][2] = .init(id: 8, logprob: -5.0)  // missing: min1 − (min2 − min1) = −4 − (−1 − −4) = −7 → 2 / 12 / 2
        let first: Double = 0.1 / (1e-6 + 0.3) / 2
        let second: Double = 2.0 / (1e-6 + 12) / 2
        let expected: Double = 1 - (first + second) / 300
        let got = ScoringSimilarity.similarity(originalTokens: [5, 1], original: Self.top, validatorTokens: [5, 1], validator: v)
        #expect(abs(got - expected) < 1e-12)
    }
}
