@testable import ChorusCompute

extension ByteLevel {
    /// The vocabulary spelling of raw bytes (GPT-2's byte alphabet), as Hugging Face reports pieces.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }
}
