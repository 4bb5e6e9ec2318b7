/// Which datagram counters of one sender were already accepted (the anti-replay window of IPsec,
/// RFC 4303 §3.4.3): the highest counter seen plus a bitmap of the 64 below it.
///
/// UDP reorders, so a strictly-rising check would drop honest datagrams; the window accepts any
/// counter not seen before that is at most 63 below the highest, and refuses everything else. A replay
/// of a datagram (same counter) is always refused.
public struct ReplayWindow: Sendable, Equatable {
    public private(set) var highest: UInt64 = 0
    /// Bit i set: counter `highest - i` was accepted.
    private var seen: UInt64 = 0

    public init() {}

    /// Records `counter` and returns true if it is new and inside the window; false means drop.
    public mutating func accept(_ counter: UInt64) -> Bool {
        if seen == 0 || counter > highest {
            let shift = seen == 0 ? 64 : counter - highest
            seen = shift >= 64 ? 1 : (seen << shift) | 1
            highest = counter
            return true
        }
        let behind = highest - counter
        guard behind < 64 else { return false }
        let bit: UInt64 = 1 << behind
        guard seen & bit == 0 else { return false }
        seen |= bit
        return true
    }
}
