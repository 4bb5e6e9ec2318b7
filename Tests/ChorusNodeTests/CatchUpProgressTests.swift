import Testing
import ChorusNode

@Suite struct CatchUpProgressTests {
    @Test func inStepSaysNothing() {
        var progress = CatchUpProgress()
        #expect(progress.observe(current: 0, lastFinal: nil, now: 0) == nil)
        #expect(progress.observe(current: 1, lastFinal: nil, now: 5) == nil)  // epoch 0 finalizing during 1
        #expect(progress.observe(current: 7, lastFinal: 5, now: 10) == nil)
        #expect(progress.observe(current: 7, lastFinal: 6, now: 15) == nil)
    }

    @Test func aCatchUpCountsFinalEpochsOutOfThoseToGoAndEndsWithTheTotal() {
        var progress = CatchUpProgress()
        // Away since epoch 3 was final; the network is in epoch 10: epochs 4…8 are to catch up.
        #expect(progress.observe(current: 10, lastFinal: 3, now: 0) == .catchingUp(done: 0, total: 5, lastFinal: 3, current: 10))
        #expect(progress.observe(current: 10, lastFinal: 3, now: 5) == nil)  // nothing new
        #expect(progress.observe(current: 10, lastFinal: 3, now: 31) == .catchingUp(done: 0, total: 5, lastFinal: 3, current: 10))
        #expect(progress.observe(current: 10, lastFinal: 6, now: 35) == .catchingUp(done: 3, total: 5, lastFinal: 6, current: 10))
        // The clock moves on while it catches up: the total grows with it.
        #expect(progress.observe(current: 11, lastFinal: 7, now: 40) == .catchingUp(done: 4, total: 6, lastFinal: 7, current: 11))
        #expect(progress.observe(current: 11, lastFinal: 9, now: 45) == .caughtUp(epochs: 6, seconds: 45))
        #expect(progress.observe(current: 11, lastFinal: 10, now: 50) == nil)
    }

    @Test func aNodeWithNoFinalEpochLongAfterGenesisIsBehind() {
        var progress = CatchUpProgress()
        #expect(progress.observe(current: 4, lastFinal: nil, now: 0) == .catchingUp(done: 0, total: 3, lastFinal: nil, current: 4))
        #expect(progress.observe(current: 4, lastFinal: 1, now: 1) == .catchingUp(done: 2, total: 3, lastFinal: 1, current: 4))
    }
}
