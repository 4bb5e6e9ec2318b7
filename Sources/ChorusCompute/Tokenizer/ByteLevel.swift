/// GPT-2's reversible byte ↔ character mapping used by byte-level BPE vocabularies: the 188
/// printable bytes ('!'…'~', '¡'…'¬', '®'…'ÿ') map to themselves, the other 68 bytes map in
/// increasing order to U+0100, U+0101, … (so a space is 'Ġ', a newline 'Ċ').
enum ByteLevel {
    /// Character (as a Unicode scalar) for each byte value.
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Set<Int>()
        for r in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { for b in r { printable.insert(b) } }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next = 0
        for b in 0..<256 {
            if printable.contains(b) {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(UInt32(256 + next))!  // 256...323 are valid scalars
                next += 1
            }
        }
        return table
    }()

    static let scalarToByte: [Unicode.Scalar: UInt8] = {
        var inverse: [Unicode.Scalar: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { inverse[s] = UInt8(b) }
        return inverse
    }()

    /// The raw bytes a vocabulary spelling stands for; characters outside the mapping (which a
    /// well-formed vocabulary does not contain) contribute their own UTF-8.
    static func decode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in token.unicodeScalars {
            if let b = scalarToByte[scalar] {
                out.append(b)
            } else {
                out += Array(String(scalar).utf8)
            }
        }
        return out
    }
}
