import ChorusInference
/// A parsed JSON document, kept whole so the request parser can refuse unknown parameters by
/// name and check types itself (with OpenAI-style messages naming the field) instead of
/// surfacing a `DecodingError`.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// The deepest nesting of arrays and objects (a scalar is 0).
    public var depth: Int {
        switch self {
        case let .array(items): 1 + (items.map(\.depth).max() ?? 0)
        case let .object(fields): 1 + (fields.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
