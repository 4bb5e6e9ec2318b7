public import ChorusCrypto
import ChorusWire

/// Confirmation PoC (Specs/epochs.md §4): short windows in the inference stage, chosen from the
/// epoch's agreed seed, in which participants re-run PoC to show that the capacity behind their
/// weight is still there. The reading of a window is the count of artifacts proven in it.
public enum ConfirmationPoC {
    /// One window, in milliseconds since 1970 (start inclusive, end exclusive).
    public struct Window: Sendable, Hashable {
        public let start: Int64
        public let end: Int64
    }

    /// The windows of `epoch`'s inference stage: `windows_per_epoch` starts drawn with
    /// `uniform(sub(seed, confirmation), inference_ms − window_ms + 1)` from counter 0, sorted.
    /// Every node with the final table of `epoch` derives the same windows; nobody can predict
    /// them before the table's reveals exist.
    public static func windows(agreedSeed: EpochSeed, epoch: UInt64, parameters: NetworkParameters) -> [Window] {
        let c = parameters.confirmation
        guard c.windowsPerEpoch > 0, c.windowMs <= parameters.stages.inferenceMs else { return [] }
        let clock = EpochClock(parameters)
        let stageStart = clock.start(of: .inference, epoch: epoch)
        let words = CounterWords(key: agreedSeed.subSeed(.confirmation))
        var counter: UInt64 = 0
        var starts: [Int64] = []
        for _ in 0..<c.windowsPerEpoch {
            let offset = words.uniform(below: parameters.stages.inferenceMs - c.windowMs + 1, counter: &counter)
            starts.append(stageStart + Int64(offset))
        }
        return starts.sorted().map { Window(start: $0, end: $0 + Int64(c.windowMs)) }
    }

    /// The PoC kernel seed of window `window`: `H("chorus/confirmation/seed/1\0" ‖ u32 window ‖
    /// sub(seed, confirmation))`. Fresh per window and unknown before the epoch's reveals, so no
    /// artifact of a window can be computed ahead of it, nor reused from generation or another window.
    public static func windowSeed(agreedSeed: EpochSeed, window: UInt32) -> Bytes32 {
        var w = WireWriter()
        w.writeRaw(Array("chorus/confirmation/seed/1\0".utf8))
        w.writeU32(window)
        w.writeBytes32(agreedSeed.subSeed(.confirmation))
        return Blake2b.hash256(w.bytes)
    }

    /// Artifacts a participant should prove in one window at the rate its `pocWeight` claims:
    /// `⌊pocWeight × window_ms / reference_generation_ms⌋`.
    public static func expectedCount(pocWeight: UInt64, parameters: NetworkParameters) -> UInt64 {
        UInt64(UInt128(pocWeight) * UInt128(parameters.confirmation.windowMs) / UInt128(parameters.referenceGenerationMs))
    }

    /// The 0.7 rule: a reading passes when it is at least `pass_ratio` of the expected count.
    public static func passes(reading: UInt64, expected: UInt64, parameters: NetworkParameters) -> Bool {
        let r = parameters.confirmation.passRatio
        return UInt128(reading) * UInt128(r.denominator) >= UInt128(expected) * UInt128(r.numerator)
    }

    /// Confirmation weight: the minimum over the epoch's readings (none: nil).
    public static func confirmationWeight(readings: [UInt64]) -> UInt64? { readings.min() }
}
