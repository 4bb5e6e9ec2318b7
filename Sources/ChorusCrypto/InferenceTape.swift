#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The public random tape that fixes every sampled token of an inference (Specs/inference.md §4).
///
/// Sampling is Gumbel-max over a tape anyone can recompute: `x_t = argmax_{i ∈ kept} (z_i + g_i)`,
/// where `g_i` comes from the counter generator keyed by the inference seed at counter
/// `t · vocab + i`. Because no random state is carried from step to step, a validator that
/// teacher-forces the executor's tokens recomputes each position's choice from its own logits and
/// counts disagreements ("flips"); an executor that sampled from a cheaper model, or chose freely,
/// flips far more often than numerical noise allows. It lives in ChorusCrypto so that the worker
/// engine (ChorusCompute) and the protocol (ChorusProtocol) share one definition without either
/// depending on the other.
///
/// Every step is integer arithmetic or one IEEE binary64 operation: the words are exact, `u` is an
/// odd multiple of 2^-53 (so neither 0 nor 1 and exact), and `g = −log(−log u)` uses the platform's
/// binary64 `log` (glibc's is correctly rounded in practice; an implementation whose `log` is off by
/// an ulp can differ only on exact near-ties, which the verdict's honest flip rate absorbs).
public struct InferenceTape: Sendable, Hashable {
    public let seed: Bytes32
    private let words: CounterWords

    public init(seed: Bytes32) {
        self.seed = seed
        words = CounterWords(key: seed)
    }

    /// The generator's word for `counter` (Specs/synthetic-models.md §1.2).
    @inline(__always)
    public func word(_ counter: UInt64) -> UInt64 { words.word(counter) }

    /// `t · vocab + id`, the counter of token `id` at output position `t`.
    @inline(__always)
    public static func counter(position: Int, token: Int, vocabularySize: Int) -> UInt64 {
        UInt64(position) &* UInt64(vocabularySize) &+ UInt64(token)
    }

    /// `u = (2·(w >> 12) + 1) · 2^-53`: an odd multiple of 2^-53 in (0, 1), exact in binary64.
    @inline(__always)
    public static func unit(_ word: UInt64) -> Double {
        Double(((word >> 12) << 1) | 1) * 0x1p-53
    }

    /// `g = −log(−log u)`, standard Gumbel, in binary64.
    @inline(__always)
    public static func gumbel(_ u: Double) -> Double {
        -log(-log(u))
    }

    /// The tape's uniform for token `token` at output position `position`.
    public func uniform(position: Int, token: Int, vocabularySize: Int) -> Double {
        Self.unit(word(Self.counter(position: position, token: token, vocabularySize: vocabularySize)))
    }

    /// The tape's Gumbel value for token `token` at output position `position`.
    @inline(__always)
    public func gumbel(position: Int, token: Int, vocabularySize: Int) -> Double {
        Self.gumbel(Self.unit(word(Self.counter(position: position, token: token, vocabularySize: vocabularySize))))
    }
}

/// The sampling parameters of one inference as the tape applies them (Specs/inference.md §4).
/// The protocol carries temperature and top-p as integer millionths; `init(millionths...)` gives
/// the binary64 values every implementation uses (one correctly rounded division each).
public struct TapeSampling: Sendable, Hashable, Codable {
    /// 0 = greedy.
    public var temperature: Double
    /// 0 = off; 1 = greedy.
    public var topK: Int
    /// In (0, 1]; 1 = off.
    public var topP: Double

    public init(temperature: Double, topK: Int = 0, topP: Double = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// `T = t / 10^6`, `P = p / 10^6` in binary64.
    public init(temperatureMillionths t: UInt32, topK: UInt32, topPMillionths p: UInt32) {
        self.init(temperature: Double(t) / 1e6, topK: Int(topK), topP: Double(p) / 1e6)
    }

    public static let greedy = TapeSampling(temperature: 0)

    /// Temperature 0 or top-k 1: argmax, no tape.
    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// Why these parameters cannot be used, or nil.
    public var problem: String? {
        if !(temperature.isFinite && temperature >= 0) { return "temperature \(temperature) must be finite and ≥ 0" }
        if !(topP > 0 && topP <= 1) { return "top_p \(topP) must be in (0, 1]" }
        if topK < 0 { return "top_k \(topK) must be ≥ 0 (0 disables it)" }
        return nil
    }
}

/// One position's decision.
public struct TapeChoice: Sendable, Hashable, Codable {
    /// The chosen token id.
    public var token: Int
    /// Whether the tape decided (false: greedy argmax).
    public var usedTape: Bool
    /// Tokens in the kept set (the whole vocabulary when greedy: argmax ranges over all).
    public var kept: Int
    /// Score of the choice minus the best other kept token's score (perturbed `z + g` with the
    /// tape, raw logits when greedy); +∞ when only one token is kept.
    public var margin: Double
    /// For `against`: the choice's score minus that token's (0 when it is the choice, +∞ when it
    /// is not kept); nil when no token was given.
    public var marginToOther: Double?

    public init(token: Int, usedTape: Bool, kept: Int, margin: Double, marginToOther: Double? = nil) {
        self.token = token
        self.usedTape = usedTape
        self.kept = kept
        self.margin = margin
        self.marginToOther = marginToOther
    }
}

public enum TapeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Logits must be finite: a NaN or infinity has no place in the order or the sums.
    case nonFiniteLogit(index: Int)
    case emptyRow
    case invalidSampling(reason: String)
    case tokenOutOfRange(token: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .nonFiniteLogit(index): "logit \(index) is not finite; the tape needs finite logits"
        case .emptyRow: "a row of logits has no entries"
        case let .invalidSampling(reason): "invalid sampling parameters: \(reason)"
        case let .tokenOutOfRange(token, vocab): "token \(token) is outside the vocabulary (0..<\(vocab))"
        }
    }
}

extension InferenceTape {
    /// The token of output position `position` for one row of fp32 logits (Specs/inference.md §4):
    ///
    /// 1. greedy (`temperature == 0` or `topK == 1`): argmax of the logits, lowest id on ties;
    /// 2. otherwise `z_i = Double(logit_i) / T`; tokens ordered by `z` descending, ties by id
    ///    ascending; top-k keeps the first `k`; top-p (`P < 1`) keeps the shortest prefix whose
    ///    sequential sum of `exp(z_j − z_first)` reaches `P · S`, S the same sum over the top-k set
    ///    taken in id order (so that S needs no sort);
    /// 3. the choice is the kept token with the largest `z_i + g_i`, lowest id on ties.
    ///
    /// `tape` may be nil only for greedy parameters. `against` asks for the margin to that token.
    public static func choose(
        _ row: ArraySlice<Float>, sampling: TapeSampling, tape: InferenceTape?, position: Int, against: Int? = nil
    ) throws(TapeError) -> TapeChoice {
        let v = row.count
        guard v > 0 else { throw .emptyRow }
        if let problem = sampling.problem { throw .invalidSampling(reason: problem) }
        if let other = against, other < 0 || other >= v { throw .tokenOutOfRange(token: other, vocabularySize: v) }
        let base = row.startIndex
        for i in 0..<v where !row[base + i].isFinite { throw .nonFiniteLogit(index: i) }

        if sampling.isGreedy {
            var best = 0, bestValue = row[base]
            for i in 1..<v where row[base + i] > bestValue { best = i; bestValue = row[base + i] }
            var second = -Float.infinity
            for i in 0..<v where i != best && row[base + i] > second { second = row[base + i] }
            let margin = v == 1 ? Double.infinity : Double(bestValue) - Double(second)
            let toOther = against.map { Double(bestValue) - Double(row[base + $0]) }
            return TapeChoice(token: best, usedTape: false, kept: v, margin: margin, marginToOther: toOther)
        }
        guard let tape else { throw .invalidSampling(reason: "sampling with temperature > 0 needs a tape seed") }

        let t = sampling.temperature
        let kept = keptSet(row, temperature: t, topK: sampling.topK, topP: sampling.topP)
        var best = -1, bestScore = -Double.infinity, second = -Double.infinity
        var scoreOfOther: Double?
        func score(_ i: Int) -> Double {
            Double(row[base + i]) / t + tape.gumbel(position: position, token: i, vocabularySize: v)
        }
        func consider(_ i: Int, _ s: Double) {
            if i == against { scoreOfOther = s }
            // Ties go to the lower id, whatever the order of evaluation.
            if s > bestScore || (s == bestScore && i < best) {
                if best >= 0 { second = max(second, bestScore) }
                best = i
                bestScore = s
            } else {
                second = max(second, s)
            }
        }
        // Exact pruning (the result is the same as scoring every kept id): g ≤ −log(1 − u), and
        // −log(q) ≤ U(w) = (lzc(2^53·q) − 10)·ln 2 from the word's bits alone, so an id with
        // z + U below the runner-up so far can be neither the choice nor the runner-up and needs
        // no logarithm. The two kept ids of largest z are scored first so the bound bites at once;
        // `against` is always scored exactly.
        let (first, next) = kept.twoLargest(row)
        var seeded: Set<Int> = [first]
        consider(first, score(first))
        if let next { seeded.insert(next); consider(next, score(next)) }
        if let other = against, !seeded.contains(other), kept.contains(other) { seeded.insert(other); consider(other, score(other)) }
        kept.forEach { i in
            if seeded.contains(i) { return }
            let z = Double(row[base + i]) / t
            let w = tape.word(Self.counter(position: position, token: i, vocabularySize: v))
            let bound = z + Self.gumbelBound(w)
            if bound + 1e-6 + 1e-12 * (abs(second) + abs(z)) < second { return }
            consider(i, z + Self.gumbel(Self.unit(w)))
        }
        let margin = kept.count == 1 ? Double.infinity : bestScore - second
        let toOther: Double? = against.map { _ in scoreOfOther.map { bestScore - $0 } ?? .infinity }
        return TapeChoice(token: best, usedTape: true, kept: kept.count, margin: margin, marginToOther: toOther)
    }

    /// An upper bound of `gumbel(unit(word))`: with `q = 1 − u = n·2^-53` (n = 2^53 − (2(w >> 12) + 1) ≥ 1),
    /// `g = −log(−log u) ≤ −log q ≤ (lzc64(n) − 10)·ln 2`, since `−log(1 − q) ≥ q` and `q ≥ 2^(63 − lzc64(n) − 53)`.
    @inline(__always)
    static func gumbelBound(_ word: UInt64) -> Double {
        let n = (UInt64(1) << 53) - (((word >> 12) << 1) | 1)
        return Double(n.leadingZeroBitCount - 10) * 0.693_147_180_559_945_3
    }

    /// The kept token ids: all of them (no ordering needed) or an ordered prefix.
    private enum Kept {
        case all(Int)
        case prefix([Int])

        var count: Int {
            switch self {
            case let .all(n): n
            case let .prefix(ids): ids.count
            }
        }

        func forEach(_ body: (Int) -> Void) {
            switch self {
            case let .all(n): for i in 0..<n { body(i) }
            case let .prefix(ids): for i in ids { body(i) }
            }
        }

        func contains(_ id: Int) -> Bool {
            switch self {
            case let .all(n): id >= 0 && id < n
            case let .prefix(ids): ids.contains(id)
            }
        }

        /// The kept ids of largest and second largest logit (ties: lower id); a prefix is ordered already.
        func twoLargest(_ row: ArraySlice<Float>) -> (Int, Int?) {
            switch self {
            case let .prefix(ids):
                return (ids[0], ids.count > 1 ? ids[1] : nil)
            case let .all(n):
                let base = row.startIndex
                var a = 0, b = -1
                for i in 1..<max(n, 1) {
                    let x = row[base + i]
                    if x > row[base + a] { b = a; a = i } else if b < 0 || x > row[base + b] { b = i }
                }
                return (a, b >= 0 ? b : nil)
            }
        }
    }

    private static func keptSet(_ row: ArraySlice<Float>, temperature t: Double, topK: Int, topP: Double) -> Kept {
        let v = row.count
        let base = row.startIndex
        let truncateK = topK > 0 && topK < v
        guard truncateK || topP < 1 else { return .all(v) }
        // Order by z descending, ties by id ascending. z_i = logit_i / T is monotone in the logit,
        // but the order is defined on z (two close logits could meet after the division).
        let z = (0..<v).map { Double(row[base + $0]) / t }
        if !truncateK { return topPPrefix(z, topP: topP) }
        let order = topK <= 256 ? topIndices(z, k: topK) : sortedIDs(z, among: Array(0..<v)).prefix(topK).map { $0 }
        guard topP < 1 else { return .prefix(order) }
        // S over the top-k set in id order; the prefix in z order.
        let zFirst = z[order[0]]
        var total = 0.0
        for id in order.sorted() { total += exp(z[id] - zFirst) }
        return .prefix(prefixReaching(topP * total, order: order, z: z, zFirst: zFirst) ?? order)
    }

    /// Top-p over the whole vocabulary: `S = Σ exp(z_i − z_max)` in id order, then the shortest prefix
    /// of the (z desc, id asc) order whose sequential sum reaches `P·S`. Only the ids with
    /// `z ≥ cut` are sorted first (they are a prefix of the full order, whatever the cut); the full
    /// sort runs only if that prefix does not reach `P·S`.
    private static func topPPrefix(_ z: [Double], topP: Double) -> Kept {
        let zFirst = z.max()!
        var total = 0.0
        for x in z { total += exp(x - zFirst) }
        let target = topP * total
        // Ids below the cut hold at most (1 − P)·S together, so the prefix is normally among the rest.
        let cut = zFirst + log(max((1 - topP) * total / Double(z.count), Double.leastNormalMagnitude))
        let candidates = z.indices.filter { z[$0] >= cut }
        if let kept = prefixReaching(target, order: sortedIDs(z, among: candidates), z: z, zFirst: zFirst) { return .prefix(kept) }
        return .prefix(prefixReaching(target, order: sortedIDs(z, among: Array(z.indices)), z: z, zFirst: zFirst) ?? sortedIDs(z, among: Array(z.indices)))
    }

    /// The shortest prefix of `order` whose sequential sum of `exp(z − zFirst)` is ≥ `target`, or nil.
    private static func prefixReaching(_ target: Double, order: [Int], z: [Double], zFirst: Double) -> [Int]? {
        var sum = 0.0
        for (j, id) in order.enumerated() {
            sum += exp(z[id] - zFirst)
            if sum >= target { return Array(order.prefix(j + 1)) }
        }
        return nil
    }

    /// `ids` ordered by z descending, ties by id ascending.
    private static func sortedIDs(_ z: [Double], among ids: [Int]) -> [Int] {
        var pairs = ids.map { (z: z[$0], id: $0) }
        pairs.sort { a, b in a.z != b.z ? a.z > b.z : a.id < b.id }
        return pairs.map(\.id)
    }

    /// The `k` best ids by (z descending, id ascending), in that order; O(V·k) for small k.
    private static func topIndices(_ z: [Double], k: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for i in z.indices {
            if best.count == k, let last = best.last, !(z[i] > z[last]) { continue }
            var at = best.count
            while at > 0 && z[best[at - 1]] < z[i] { at -= 1 }
            best.insert(i, at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
