/// A ggml tensor element type as stored in GGUF. Only the types this engine dequantizes have
/// cases; any other id is named (for the error message) through `name(ofRawType:)`.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case bf16 = 30

    /// Elements per block (1 for the plain float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q8_0: 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18  // f16 scale + 16 bytes of 4-bit values
        case .q4_1: 20  // f16 scale + f16 minimum + 16 bytes of 4-bit values
        case .q8_0: 34  // f16 scale + 32 int8 values
        }
    }

    public var description: String { GGMLType.name(ofRawType: rawValue) }

    /// The ggml name of a type id, including the ones we do not support.
    public static func name(ofRawType raw: UInt32) -> String {
        let names: [UInt32: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
            10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K",
            16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S",
            22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
            29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
        ]
        return names[raw] ?? "unknown type \(raw)"
    }
}
