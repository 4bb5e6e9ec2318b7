/// A TOML value as Chorus files use it (`Specs/network-file.md`, the node's `config.toml`).
///
/// Floats keep the literal as written (digits, sign, point, exponent; underscores removed), so a
/// reader takes `0.1` as exactly one tenth: network parameters are exact fractions and must never
/// pass through a binary double (Specs/network-file.md, "Values").
public enum TOMLValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    /// A float literal, normalized: no underscores; `inf`, `+inf`, `-inf`, `nan` spelled that way.
    case float(String)
    case boolean(Bool)
    case dateTime(TOMLDateTime)
    case array([TOMLValue])
    case table(TOMLTable)

    public var string: String? { if case let .string(s) = self { s } else { nil } }
    public var int: Int? { if case let .integer(i) = self { Int(exactly: i) } else { nil } }
    public var floatLiteral: String? { if case let .float(f) = self { f } else { nil } }
    public var bool: Bool? { if case let .boolean(b) = self { b } else { nil } }
    public var dateTime: TOMLDateTime? { if case let .dateTime(d) = self { d } else { nil } }
    public var array: [TOMLValue]? { if case let .array(a) = self { a } else { nil } }
    public var table: TOMLTable? { if case let .table(t) = self { t } else { nil } }

    /// The TOML type's name, for errors ("expected a string, found integer").
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .dateTime: "date-time"
        case .array: "array"
        case .table: "table"
        }
    }

    public var description: String {
        switch self {
        case let .string(s): "\"\(s)\""
        case let .integer(i): "\(i)"
        case let .float(f): f
        case let .boolean(b): "\(b)"
        case let .dateTime(d): d.text
        case let .array(a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .table(t): "{" + t.keys.map { "\($0) = \(t[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A table: keys in the order they were written.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]

    public init() {}

    public subscript(key: String) -> TOMLValue? { values[key] }

    mutating func set(_ key: String, _ value: TOMLValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }
}

/// A date-time literal: an offset date-time (`offsetMinutes` set), a local date-time, a local date
/// or a local time (the missing parts nil).
public struct TOMLDateTime: Sendable, Equatable {
    public var year: Int?
    public var month: Int?
    public var day: Int?
    public var hour: Int?
    public var minute: Int?
    public var second: Int?
    public var nanosecond: Int?
    /// Minutes east of UTC (`Z` is 0); nil for a local date or time.
    public var offsetMinutes: Int?
    /// The literal as written.
    public var text: String
}

/// Why a text is not TOML (or not the part of TOML Chorus files use), and where.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let reason: String

    public var description: String { "line \(line), column \(column): \(reason)" }
}
