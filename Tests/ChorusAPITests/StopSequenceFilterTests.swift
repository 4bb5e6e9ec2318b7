import Testing
@testable import ChorusAPI
@testable import ChorusInference

@Suite struct StopSequenceFilterTests {
    /// Feeds the text one growing prefix at a time, as tokens arrive.
    func run(_ pieces: [String], stops: [String]) -> (released: [String], stopped: Bool) {
        var filter = StopSequenceFilter(stops: stops)
        var text: [UInt8] = []
        var out: [String] = []
        for piece in pieces {
            text += Array(piece.utf8)
            out.append(String(decoding: filter.update(text), as: UTF8.self))
        }
        if !filter.stopped { out.append(String(decoding: filter.finish(text), as: UTF8.self)) }
        return (out, filter.stopped)
    }

    @Test func textThatCouldStartAStopIsHeldBack() {
        let r = run(["Hello", " wor", "ld\n", "\nmore"], stops: ["\n\n"])
        #expect(r.released == ["Hello", " wor", "ld", ""] && r.stopped)
    }

    @Test func aFalseStartIsReleasedOnceItDiverges() {
        let r = run(["abc EN", "Dx", " done"], stops: ["END!"])
        #expect(r.released == ["abc ", "ENDx", " done", ""] && !r.stopped)
    }

    @Test func theEarliestOfSeveralStopsWins() {
        let r = run(["one two three"], stops: ["three", "two"])
        #expect(r.released == ["one "] && r.stopped)
    }

    @Test func multiByteTextAndStopsCutOnCharacterBoundaries() {
        let r = run(["Prix: 5 €", " — fin"], stops: ["—"])
        #expect(r.released == ["Prix: 5 €", " "] && r.stopped)
    }

    @Test func withoutStopsEverythingIsReleasedAtOnce() {
        let r = run(["a", "b"], stops: [])
        #expect(r.released == ["a", "b", ""] && !r.stopped)
    }
}
