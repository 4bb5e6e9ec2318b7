public import ChorusCrypto

/// A validator's teacher-forced re-run of one inference (Specs/inference.md §7): at each output
/// position it recomputes the tape's choice from its own logits (given the prompt and the
/// executor's earlier tokens) and counts a **flip** wherever the executor's token differs.
/// An honest executor flips only where the two runs' logits differ enough to move a near-tie;
/// one that generated with another model, or ignored the tape, flips at a large fraction of
/// positions — and laundering (reporting a replay of the real model) does not help, because the
/// tokens themselves are what is compared.
public struct FlipCheck: Sendable, Hashable {
    public let sampling: TapeSampling
    public let tape: InferenceTape?
    /// Positions compared so far.
    public private(set) var positions = 0
    public private(set) var flips = 0
    /// Flips whose executor token is not even in the validator's kept set (top-k / top-p).
    public private(set) var outOfSet = 0
    /// For each flip with the executor's token kept: the recomputed choice's score minus the
    /// executor token's (`z + g`; raw logits when greedy), ≥ 0. Diagnostic, not part of the verdict.
    public private(set) var flipMargins: [Double] = []

    public init(request: InferenceRequest, seed: Bytes32) {
        sampling = request.sampling
        tape = request.isGreedy ? nil : InferenceTape(seed: seed)
    }

    /// Compares the next position: `logits` are the validator's for that position, `executorToken`
    /// the receipt's token there. Returns the recomputed choice.
    @discardableResult
    public mutating func add(logits: ArraySlice<Float>, executorToken: UInt32) throws(ProtocolError) -> TapeChoice {
        let choice: TapeChoice
        do {
            choice = try InferenceTape.choose(logits, sampling: sampling, tape: tape, position: positions, against: Int(executorToken))
        } catch {
            throw .invalidStatement(type: "inference-check", reason: "position \(positions): \(error)")
        }
        positions += 1
        if choice.token != Int(executorToken) {
            flips += 1
            if let m = choice.marginToOther, m.isFinite { flipMargins.append(m) } else { outOfSet += 1 }
        }
        return choice
    }

    /// The verdict on the positions so far (`FlipTest`).
    public func verdict(_ parameters: InferenceCheckParameters) -> Verdict {
        FlipTest.passes(flips: flips, positions: positions, parameters: parameters) ? .valid : .invalid
    }
}

/// The exact binomial flip test (Specs/inference.md §7.2): with honest flips independent at rate
/// at most `p = honest_flip_rate` per position, an inference with `f` flips in `n` positions fails
/// when `P[Binomial(n, p) ≥ f] < flip_p_value`, decided in integers by `BinomialTest`, so every
/// validator reaches the same verdict bit for bit.
public enum FlipTest {
    /// The most flips that still pass at `n` positions: `m* − 1`, or `n` when no count fails.
    public static func maxHonestFlips(positions n: Int, parameters: InferenceCheckParameters) -> Int {
        guard n > 0 else { return 0 }
        precondition(n <= Int(InferenceRequest.maxOutputTokens), "positions \(n) above the protocol's \(InferenceRequest.maxOutputTokens)")
        guard let m = BinomialTest.minimumMismatchesForFraud(samples: n, pMismatch: parameters.honestFlipRate,
                                                             pValueThreshold: parameters.flipPValue) else { return n }
        return m - 1
    }

    public static func passes(flips: Int, positions: Int, parameters: InferenceCheckParameters) -> Bool {
        flips <= maxHonestFlips(positions: positions, parameters: parameters)
    }
}

/// `FlipTest.maxHonestFlips` computed once per length: a validator checks many inferences that
/// share a handful of lengths.
public struct FlipThresholds: Sendable {
    public let parameters: InferenceCheckParameters
    private var cache: [Int: Int] = [:]

    public init(parameters: InferenceCheckParameters) { self.parameters = parameters }

    public mutating func maxHonestFlips(positions: Int) -> Int {
        if let known = cache[positions] { return known }
        let value = FlipTest.maxHonestFlips(positions: positions, parameters: parameters)
        cache[positions] = value
        return value
    }
}
