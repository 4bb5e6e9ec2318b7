/// The value type ids of GGUF metadata (the numbering is fixed by the format).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
    case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
}

/// One GGUF metadata value. Arrays keep their declared element type so that an empty array and a
/// writer round trip stay exact.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(elementType: GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The value as an integer, if it is one of the integer types (or a bool) and fits in `Int`.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        case let .bool(v): v ? 1 : 0
        default: nil
        }
    }

    /// The value as a floating-point number, if it is numeric.
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case let .string(s) = self { s } else { nil }
    }

    public var boolValue: Bool? {
        if case let .bool(b) = self { b } else { nil }
    }

    public var arrayValue: [GGUFValue]? {
        if case let .array(_, items) = self { items } else { nil }
    }

    /// A short description for error messages ("uint32 7", "string", "array of 3 string").
    var summary: String {
        switch self {
        case let .string(s): "string \"\(s.prefix(40))\""
        case let .array(t, items): "array of \(items.count) \(t)"
        default: "\(type) \(doubleValue.map { String($0) } ?? "?")"
        }
    }
}
