import Synchronization
import Testing
@testable import ChorusAPI
@testable import ChorusInference

@Suite struct APIAccessTests {
    final class ManualClockForTests: Sendable {
        let seconds = Mutex(0.0)
        func advance(_ s: Double) { seconds.withLock { $0 += s } }
        var now: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
    }

    @Test func keysAreRequiredAndCheckedOnePerBucket() throws {
        let clock = ManualClockForTests()
        let access = APIAccess(keys: ["alpha-key", "beta-key"], rate: .init(perMinute: 60, burst: 2), now: clock.now)
        #expect(throws: OpenAIError.unauthorized) { try access.admit(authorization: nil) }
        #expect(throws: OpenAIError.unauthorized) { try access.admit(authorization: "Bearer alpha-ke") }
        #expect(throws: OpenAIError.unauthorized) { try access.admit(authorization: "alpha-key") }
        try access.admit(authorization: "Bearer alpha-key")
        try access.admit(authorization: "Bearer alpha-key")
        // alpha's burst is spent; beta has its own bucket.
        #expect(throws: OpenAIError.rateLimited(retryAfterSeconds: 1)) { try access.admit(authorization: "Bearer alpha-key") }
        try access.admit(authorization: "Bearer beta-key")
        clock.advance(1)
        try access.admit(authorization: "Bearer alpha-key")
        #expect(throws: OpenAIError.self) { try access.admit(authorization: "Bearer alpha-key") }
    }

    @Test func withoutKeysEveryoneSharesOneBudget() throws {
        let clock = ManualClockForTests()
        let access = APIAccess(keys: [], rate: .init(perMinute: 6, burst: 1), now: clock.now)
        #expect(!access.requiresKey)
        try access.admit(authorization: nil)
        #expect(throws: OpenAIError.rateLimited(retryAfterSeconds: 10)) { try access.admit(authorization: "Bearer anything") }
        clock.advance(10)
        try access.admit(authorization: nil)
    }

    @Test func reloadReplacesKeys() throws {
        let access = APIAccess(keys: ["old"])
        try access.admit(authorization: "Bearer old")
        access.reload(keys: ["new"], rate: .standard)
        #expect(throws: OpenAIError.unauthorized) { try access.admit(authorization: "Bearer old") }
        try access.admit(authorization: "Bearer new")
    }
}
