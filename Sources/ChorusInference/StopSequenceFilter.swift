/// Decides how much of the generated text is final. Text is held back while its end could be
/// the start of a stop sequence; once a stop sequence appears, the output ends just before it.
/// Works on UTF-8 bytes: a stop sequence's first byte is a scalar's first byte, so a match
/// always starts on a character boundary of the text.
struct StopSequenceFilter {
    let stops: [[UInt8]]
    /// Bytes of the text already released.
    private(set) var released = 0
    private(set) var stopped = false

    init(stops: [String]) {
        self.stops = stops.map { Array($0.utf8) }
    }

    /// Given the whole text so far, returns the newly final part. After a stop sequence is found
    /// `stopped` is true and later calls return nothing.
    mutating func update(_ text: [UInt8]) -> [UInt8] {
        guard !stopped else { return [] }
        let longest = stops.map(\.count).max() ?? 0
        // A stop sequence can only start where it could not have been seen before.
        let searchFrom = max(0, released - max(0, longest - 1))
        if let cut = firstStop(in: text, from: searchFrom) {
            stopped = true
            return release(text, upTo: max(cut, released))
        }
        var hold = 0
        for stop in stops {
            for k in stride(from: min(stop.count - 1, text.count), to: 0, by: -1)
            where text[(text.count - k)...].elementsEqual(stop[..<k]) {
                hold = max(hold, k)
                break
            }
        }
        return release(text, upTo: max(released, text.count - hold))
    }

    /// Releases everything left (the generation ended without a stop sequence).
    mutating func finish(_ text: [UInt8]) -> [UInt8] {
        guard !stopped else { return [] }
        return release(text, upTo: text.count)
    }

    private mutating func release(_ text: [UInt8], upTo end: Int) -> [UInt8] {
        defer { released = end }
        return Array(text[released..<end])
    }

    private func firstStop(in text: [UInt8], from start: Int) -> Int? {
        var best: Int?
        for stop in stops where !stop.isEmpty && text.count >= stop.count {
            var i = start
            while i + stop.count <= text.count {
                if text[i] == stop[0], text[i..<(i + stop.count)].elementsEqual(stop) {
                    best = min(best ?? i, i)
                    break
                }
                i += 1
            }
        }
        return best
    }
}
