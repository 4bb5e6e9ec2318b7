public import ChorusCrypto

/// How the next token is chosen: the public tape of Specs/inference.md §4 (`InferenceTape`), so a
/// validator can recompute every sampled choice from its own logits. Deterministic: the same logits,
/// parameters and tape seed give the same token on every implementation.
///
/// `temperature == 0` or `topK == 1` is greedy (argmax, lowest id on ties) and uses no tape.
/// Otherwise `z = logit / temperature`, top-k then top-p pick the kept set (ordered by z, ties by
/// id), and the token is the kept id with the largest `z + g`, `g` the tape's Gumbel value at
/// counter `position · vocab + id`.
public struct SamplingParameters: Sendable, Equatable, Hashable {
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    /// The tape's key: the inference seed (Specs/inference.md §3), or one derived from a worker
    /// `seed` (`tapeSeed(workerSeed:)`).
    public var tapeSeed: Bytes32

    public init(temperature: Double = 1, topP: Double = 1, topK: Int = 0, tapeSeed: Bytes32 = .zero) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.tapeSeed = tapeSeed
    }

    /// Parameters whose tape is keyed by a worker's u64 `seed` (Specs/worker.md §6.1).
    public init(temperature: Double = 1, topP: Double = 1, topK: Int = 0, seed: UInt64) {
        self.init(temperature: temperature, topP: topP, topK: topK, tapeSeed: Self.tapeSeed(workerSeed: seed))
    }

    /// `BLAKE2b-256("chorus/worker/sample/1\0" ‖ u64 seed)`: the tape key of a worker request that
    /// gives a u64 `seed` instead of a `tape_seed` (Specs/worker.md §6.1).
    public static func tapeSeed(workerSeed seed: UInt64) -> Bytes32 {
        var bytes = Array("chorus/worker/sample/1\0".utf8)
        withUnsafeBytes(of: seed.littleEndian) { bytes.append(contentsOf: $0) }
        return Blake2b.hash256(bytes)
    }

    /// Arg-max decoding.
    public static let greedy = SamplingParameters(temperature: 0)

    public var isGreedy: Bool { tape.isGreedy }

    /// The parameters as the tape applies them.
    public var tape: TapeSampling { TapeSampling(temperature: temperature, topK: topK, topP: topP) }

    func validate() throws(ComputeError) {
        if let problem = tape.problem { throw .invalidSampling(reason: problem) }
    }

    /// Chooses output position `position`'s token from one row of logits; with `against`, also
    /// the choice's margin over that token (a validator's check, Specs/inference.md §7.1).
    func choose(_ row: ArraySlice<Float>, position: Int, against: Int? = nil) throws(ComputeError) -> TapeChoice {
        do {
            return try InferenceTape.choose(row, sampling: tape, tape: isGreedy ? nil : InferenceTape(seed: tapeSeed), position: position,
                                            against: against)
        } catch {
            throw .invalidSampling(reason: "position \(position): \(error)")
        }
    }
}
