/// Lower-case hexadecimal, the form keys, ids and signatures take in JSON, logs and the CLI.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case; surrounding whitespace ignored). Throws on odd length or a non-hex character.
    public static func decode(_ text: some StringProtocol) throws(CryptoError) -> [UInt8] {
        let trimmed = text.utf8.drop(while: Self.isSpace).reversed().drop(while: Self.isSpace).reversed()
        let chars = Array(trimmed)
        guard chars.count % 2 == 0 else { throw .invalidHex(String(text)) }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { throw .invalidHex(String(text)) }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 }

    /// The value of one hex digit (either case), or nil.
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
