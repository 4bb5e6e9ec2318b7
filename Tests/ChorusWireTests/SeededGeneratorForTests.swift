/// SplitMix64: a tiny deterministic generator so generated test cases are the same on every run.
struct SeededGeneratorForTests: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }

    mutating func string(_ alphabet: String, length: Int) -> String {
        let chars = Array(alphabet)
        return String((0..<length).map { _ in chars[Int.random(in: 0..<chars.count, using: &self)] })
    }
}
