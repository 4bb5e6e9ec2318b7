/// The nonces of one worker slot: `offset, offset + stride, …` (`count` of them, or until u64
/// runs out). Slot `w` of `W` uses `offset = base + w`, `stride = W`, so slots never overlap and
/// together cover `base, base + 1, …` densely (Specs/poc-kernel.md §8).
public struct NonceSchedule: Sendable, Hashable, Sequence {
    public let offset: UInt64
    public let stride: UInt64
    /// Nil: open-ended (until the job is stopped).
    public let count: UInt64?

    public init(offset: UInt64 = 0, stride: UInt64 = 1, count: UInt64? = nil) throws(PoCError) {
        guard stride >= 1 else { throw .invalidSchedule(reason: "nonce_stride must be at least 1") }
        self.offset = offset
        self.stride = stride
        self.count = count
    }

    /// The `i`-th nonce, or nil past the end (count reached or beyond u64).
    public func nonce(at i: UInt64) -> UInt64? {
        if let count, i >= count { return nil }
        let (step, o1) = i.multipliedReportingOverflow(by: stride)
        let (n, o2) = offset.addingReportingOverflow(step)
        return o1 || o2 ? nil : n
    }

    /// Up to `limit` nonces starting at index `i`.
    public func nonces(from i: UInt64, limit: Int) -> [UInt64] {
        var out: [UInt64] = []
        var k = i
        while out.count < limit, let n = nonce(at: k) {
            out.append(n)
            k += 1
        }
        return out
    }

    public struct Iterator: IteratorProtocol {
        let schedule: NonceSchedule
        var index: UInt64 = 0
        public mutating func next() -> UInt64? {
            guard let n = schedule.nonce(at: index) else { return nil }
            index += 1
            return n
        }
    }

    public func makeIterator() -> Iterator { Iterator(schedule: self) }
}
