import ChorusCrypto

/// Generated test cases from a fixed seed (ChorusCrypto's SplitMix64), the same on every run.
typealias SeededGeneratorForTests = SplitMix64

extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }

    mutating func string(_ alphabet: String, length: Int) -> String {
        let chars = Array(alphabet)
        return String((0..<length).map { _ in chars[Int.random(in: 0..<chars.count, using: &self)] })
    }
}
