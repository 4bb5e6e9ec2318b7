/// A model's inference-check parameters (Specs/inference.md §6–7, names as in the network file).
public struct InferenceCheckParameters: Sendable, Hashable {
    /// `check_full_traffic`: at or below this many inferences of the model in the previous epoch,
    /// every group member checks every receipt.
    public var fullCheckTraffic: UInt64
    /// `check_rate_floor`: the lowest per-member check rate, however busy the model is.
    public var checkRateFloor: Ratio
    /// `honest_flip_rate`: the flip rate an honest executor is allowed per position (numerical
    /// differences between implementations, batch compositions and hardware).
    public var honestFlipRate: Ratio
    /// `flip_p_value`: a check fails when its flips are this unlikely under the honest rate; the
    /// false-fail rate of one honest check is below it.
    public var flipPValue: Ratio

    public init(fullCheckTraffic: UInt64, checkRateFloor: Ratio, honestFlipRate: Ratio, flipPValue: Ratio) throws(ProtocolError) {
        guard !checkRateFloor.isZero, checkRateFloor.isAtMostOne else {
            throw .invalidParameter(key: "check_rate_floor", expected: "in (0, 1]", found: "\(checkRateFloor)")
        }
        guard !honestFlipRate.isZero, honestFlipRate.isBelowOne else {
            throw .invalidParameter(key: "honest_flip_rate", expected: "in (0, 1)", found: "\(honestFlipRate)")
        }
        guard !flipPValue.isZero, flipPValue.isBelowOne else {
            throw .invalidParameter(key: "flip_p_value", expected: "in (0, 1)", found: "\(flipPValue)")
        }
        self.fullCheckTraffic = fullCheckTraffic
        self.checkRateFloor = checkRateFloor
        self.honestFlipRate = honestFlipRate
        self.flipPValue = flipPValue
    }

    /// The defaults: full checks up to 200 inferences per epoch, 1 % floor, 5 % honest flips
    /// (Gonka's measured honest floor on GPUs from batch composition; deterministic CPU workers
    /// stay far below it), p-value 1/1000 (the false-fail target per check).
    public static let defaults = InferenceCheckParameters(
        checked: 200, floor: Ratio(millionths: 10_000), honest: Ratio(millionths: 50_000), pValue: Ratio(millionths: 1_000))

    private init(checked: UInt64, floor: Ratio, honest: Ratio, pValue: Ratio) {
        fullCheckTraffic = checked
        checkRateFloor = floor
        honestFlipRate = honest
        flipPValue = pValue
    }
}
