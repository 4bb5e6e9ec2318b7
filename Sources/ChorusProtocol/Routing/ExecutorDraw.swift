public import ChorusCrypto

/// Who serves an inference request (Specs/inference-routing.md §2): a draw from the model's group
/// in a final weight table, weighted by PoC weight and seeded by the request id, so anyone holding
/// the table and the request id can recompute it; a gateway that has to skip members (unreachable,
/// suspect, dead, circuit open) draws again among the rest with the next attempt number.
public enum ExecutorDraw {
    /// A group member and its PoC weight for the model.
    public struct Candidate: Sendable, Hashable {
        public var participant: Bytes32
        public var weight: UInt64

        public init(participant: Bytes32, weight: UInt64) {
            self.participant = participant
            self.weight = weight
        }
    }

    /// The model's group in `table`: participants whose entry for `model` was accepted with a PoC
    /// weight above 0, in the table's (ascending participant) order. Equivocators hold no weight.
    public static func group(model: String, in table: WeightTable) -> [Candidate] {
        let banned = Set(table.equivocators)
        return table.entries.compactMap { entry in
            guard !banned.contains(entry.participant),
                  let m = entry.models.first(where: { $0.model == model }), m.accepted, m.pocWeight > 0 else { return nil }
            return Candidate(participant: entry.participant, weight: m.pocWeight)
        }
    }

    /// The draw's 64-bit value for `attempt` (0 first):
    /// the first 8 bytes, little-endian, of BLAKE2b-256("chorus/executor-draw/1\0" ‖ request id ‖ attempt as u32 LE).
    public static func value(requestID: Bytes32, attempt: UInt32) -> UInt64 {
        var input = Array("chorus/executor-draw/1\0".utf8) + requestID.bytes
        withUnsafeBytes(of: attempt.littleEndian) { input.append(contentsOf: $0) }
        let digest = Blake2b.hash256(input).bytes
        return digest[0..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Draws from `candidates` minus `excluded`: with W the remaining total weight and x the draw
    /// value, the target is `r = floor(x · W / 2^64)` and the executor is the first remaining
    /// candidate (in order) whose running weight sum exceeds r. Nil when no weight remains (or the
    /// weights overflow u64).
    public static func draw(requestID: Bytes32, attempt: UInt32, from candidates: [Candidate],
                            excluding excluded: Set<Bytes32> = []) -> Bytes32? {
        let remaining = candidates.filter { !excluded.contains($0.participant) && $0.weight > 0 }
        // A group whose weights do not sum within u64 has no valid draw (a table never holds one:
        // PoC weights are nonce counts).
        var total: UInt64 = 0
        for candidate in remaining {
            let (sum, overflow) = total.addingReportingOverflow(candidate.weight)
            guard !overflow else { return nil }
            total = sum
        }
        guard total > 0 else { return nil }
        let target = value(requestID: requestID, attempt: attempt).multipliedFullWidth(by: total).high
        var running: UInt64 = 0
        for candidate in remaining {
            running += candidate.weight
            if running > target { return candidate.participant }
        }
        return remaining.last?.participant
    }
}
