import Foundation

/// A TOML 1.0 reader, written for Chorus's files (network files, `config.toml`), which must be read
/// exactly and must never take the process down: every input ends in a table or a `TOMLError` with
/// its line and column, whatever its bytes (fuzzed by `chorus-fuzz network-file`). It replaced a
/// C++ parser that aborted on some malformed inputs and read decimals through binary doubles.
///
/// Supported: comments; bare, quoted and dotted keys; basic and literal strings, single- and
/// multi-line; decimal, hexadecimal, octal and binary integers (64-bit, checked); floats kept as
/// written; booleans; offset and local date-times, dates and times; arrays; inline tables; tables
/// and arrays of tables, with TOML's rules against redefining a key or a table.
public enum TOMLParser {
    /// Parses `text` into its root table.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(Array(text.utf8))
        return try parser.document()
    }
}

/// Tables while they are built: TOML allows a table to be extended until another header, so the
/// tree stays mutable (a class) until `freeze`.
private final class TableBuilder {
    enum Entry {
        case value(TOMLValue)
        /// `explicit`: defined by a header (a second header for it is an error); `frozen`: an
        /// inline table or a value, which nothing may extend.
        case table(TableBuilder)
        case tables([TableBuilder])
    }

    var order: [String] = []
    var entries: [String: Entry] = [:]
    /// Defined by its own `[header]`.
    var explicit = false
    /// Created by a dotted key of a key/value line (may be extended by dotted keys, not by a header).
    var dotted = false
    /// An inline table: closed once written.
    var inline = false

    func set(_ key: String, _ entry: Entry) {
        if entries[key] == nil { order.append(key) }
        entries[key] = entry
    }

    func freeze() -> TOMLTable {
        var table = TOMLTable()
        for key in order {
            switch entries[key]! {
            case let .value(v): table.set(key, v)
            case let .table(t): table.set(key, .table(t.freeze()))
            case let .tables(ts): table.set(key, .array(ts.map { .table($0.freeze()) }))
            }
        }
        return table
    }
}

private struct Parser {
    let bytes: [UInt8]
    var i = 0
    var line = 1
    var lineStart = 0
    /// Nesting of arrays and inline tables, bounded so deep input cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 64

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    // MARK: - Errors and positions

    func fail(_ reason: String) -> TOMLError {
        TOMLError(line: line, column: i - lineStart + 1, reason: reason)
    }

    var atEnd: Bool { i >= bytes.count }
    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
    func peek(_ offset: Int) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }

    mutating func advance() {
        if bytes[i] == 0x0a {
            line += 1
            lineStart = i + 1
        }
        i += 1
    }

    func starts(with text: String) -> Bool {
        let t = Array(text.utf8)
        return i + t.count <= bytes.count && Array(bytes[i..<(i + t.count)]) == t
    }

    // MARK: - Whitespace, comments, line ends

    mutating func skipSpaces() {
        while let c = peek, c == 0x20 || c == 0x09 { i += 1 }
    }

    /// A comment runs to the end of the line; control characters other than tab are refused.
    mutating func skipComment() throws(TOMLError) {
        guard peek == 0x23 else { return }
        while let c = peek, c != 0x0a {
            if c == 0x0d, peek(1) == 0x0a { return }
            if (c < 0x20 && c != 0x09) || c == 0x7f { throw fail("a control character in a comment") }
            i += 1
        }
    }

    /// Consumes a line end (LF or CRLF), or nothing at the end of the text.
    mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        try skipComment()
        if atEnd { return }
        if peek == 0x0d, peek(1) == 0x0a { i += 1 }
        guard peek == 0x0a else { throw fail("expected the end of the line, found \(describe(peek))") }
        advance()
    }

    /// Skips blank lines, spaces and comments (inside arrays, between statements).
    mutating func skipBlank() throws(TOMLError) {
        while true {
            skipSpaces()
            try skipComment()
            if peek == 0x0d, peek(1) == 0x0a { i += 1 }
            guard peek == 0x0a else { return }
            advance()
        }
    }

    func describe(_ c: UInt8?) -> String {
        guard let c else { return "the end of the file" }
        if c >= 0x20 && c < 0x7f { return "'\(Character(UnicodeScalar(c)))'" }
        return String(format: "byte 0x%02x", c)
    }

    // MARK: - Document

    mutating func document() throws(TOMLError) -> TOMLTable {
        let root = TableBuilder()
        var current = root
        while true {
            try skipBlank()
            guard let c = peek else { break }
            if c == 0x5b {  // [
                current = try header(root)
            } else {
                try keyValue(into: current)
            }
            try endOfLine()
        }
        return root.freeze()
    }

    /// `[a.b]` or `[[a.b]]`: returns the table the following lines fill.
    mutating func header(_ root: TableBuilder) throws(TOMLError) -> TableBuilder {
        let isArray = peek(1) == 0x5b
        i += isArray ? 2 : 1
        skipSpaces()
        let path = try keyPath()
        skipSpaces()
        guard peek == 0x5d, !isArray || peek(1) == 0x5d else { throw fail("expected \(isArray ? "]]" : "]") to close the table header") }
        i += isArray ? 2 : 1
        var table = root
        for (n, key) in path.enumerated() {
            let last = n == path.count - 1
            switch table.entries[key] {
            case nil:
                if last && isArray {
                    let fresh = TableBuilder()
                    fresh.explicit = true
                    table.set(key, .tables([fresh]))
                    return fresh
                }
                let fresh = TableBuilder()
                fresh.explicit = last
                table.set(key, .table(fresh))
                table = fresh
            case let .table(existing)?:
                if existing.inline { throw fail("table \(path.prefix(n + 1).joined(separator: ".")) is an inline table and cannot be extended") }
                if last {
                    if isArray { throw fail("\(path.joined(separator: ".")) is already a table, not an array of tables") }
                    if existing.explicit || existing.dotted { throw fail("table [\(path.joined(separator: "."))] is defined twice") }
                    existing.explicit = true
                }
                table = existing
            case let .tables(list)?:
                if last {
                    guard isArray else { throw fail("\(path.joined(separator: ".")) is an array of tables, not a table") }
                    let fresh = TableBuilder()
                    fresh.explicit = true
                    table.set(key, .tables(list + [fresh]))
                    return fresh
                }
                table = list[list.count - 1]
            case .value?:
                throw fail("\(path.prefix(n + 1).joined(separator: ".")) is already a value, not a table")
            }
        }
        return table
    }

    /// `key = value` (keys may be dotted) into `table`.
    mutating func keyValue(into table: TableBuilder) throws(TOMLError) {
        let path = try keyPath()
        skipSpaces()
        guard peek == 0x3d else { throw fail("expected '=' after the key \(path.joined(separator: "."))") }
        i += 1
        skipSpaces()
        let value = try self.value()
        var target = table
        for key in path.dropLast() {
            switch target.entries[key] {
            case nil:
                let fresh = TableBuilder()
                fresh.dotted = true
                target.set(key, .table(fresh))
                target = fresh
            case let .table(existing)? where existing.dotted && !existing.inline:
                target = existing
            default:
                throw fail("\(key) is already defined and cannot take the dotted key \(path.joined(separator: "."))")
            }
        }
        let key = path[path.count - 1]
        guard target.entries[key] == nil else { throw fail("key \(path.joined(separator: ".")) is defined twice") }
        if case let .table(inline) = value {
            let builder = TableBuilder.inline(from: inline)
            target.set(key, .table(builder))
        } else {
            target.set(key, .value(value))
        }
    }

    // MARK: - Keys

    mutating func keyPath() throws(TOMLError) -> [String] {
        var path = [try simpleKey()]
        while true {
            let save = (i, line, lineStart)
            skipSpaces()
            guard peek == 0x2e else {
                (i, line, lineStart) = save
                return path
            }
            i += 1
            skipSpaces()
            path.append(try simpleKey())
        }
    }

    mutating func simpleKey() throws(TOMLError) -> String {
        switch peek {
        case 0x22?:
            if starts(with: "\"\"\"") { throw fail("a key cannot be a multi-line string") }
            return try basicString()
        case 0x27?:
            if starts(with: "'''") { throw fail("a key cannot be a multi-line string") }
            return try literalString()
        default:
            let start = i
            while let c = peek, Self.isBareKey(c) { i += 1 }
            guard i > start else { throw fail("expected a key, found \(describe(peek))") }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
    }

    static func isBareKey(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x2d
    }

    // MARK: - Values

    mutating func value() throws(TOMLError) -> TOMLValue {
        guard let c = peek else { throw fail("expected a value, found the end of the file") }
        switch c {
        case 0x22:
            return .string(starts(with: "\"\"\"") ? try multiLineBasicString() : try basicString())
        case 0x27:
            return .string(starts(with: "'''") ? try multiLineLiteralString() : try literalString())
        case 0x74 where starts(with: "true"):
            i += 4
            return .boolean(true)
        case 0x66 where starts(with: "false"):
            i += 5
            return .boolean(false)
        case 0x5b:
            return try array()
        case 0x7b:
            return try inlineTable()
        default:
            return try numberOrDate()
        }
    }

    mutating func nest() throws(TOMLError) {
        depth += 1
        if depth > Self.maxDepth { throw fail("arrays and inline tables nested deeper than \(Self.maxDepth)") }
    }

    mutating func array() throws(TOMLError) -> TOMLValue {
        try nest()
        defer { depth -= 1 }
        i += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlank()
            if peek == 0x5d {
                i += 1
                return .array(items)
            }
            items.append(try value())
            try skipBlank()
            if peek == 0x2c {
                i += 1
                continue
            }
            guard peek == 0x5d else { throw fail("expected ',' or ']' in an array, found \(describe(peek))") }
            i += 1
            return .array(items)
        }
    }

    mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        try nest()
        defer { depth -= 1 }
        i += 1
        let table = TableBuilder()
        skipSpaces()
        if peek == 0x7d {
            i += 1
            return .table(table.freeze())
        }
        while true {
            skipSpaces()
            try keyValue(into: table)
            skipSpaces()
            if peek == 0x2c {
                i += 1
                continue
            }
            guard peek == 0x7d else { throw fail("expected ',' or '}' in an inline table, found \(describe(peek))") }
            i += 1
            return .table(table.freeze())
        }
    }

    // MARK: - Strings

    /// A Unicode scalar from its code point, or an error for surrogates and values above U+10FFFF.
    func scalar(_ value: UInt32) throws(TOMLError) -> Unicode.Scalar {
        guard let s = Unicode.Scalar(value) else { throw fail(String(format: "\\u%04X is not a Unicode scalar value", value)) }
        return s
    }

    mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        i += 1  // the backslash
        guard let c = peek else { throw fail("an escape at the end of the file") }
        i += 1
        switch c {
        case 0x62: out.append(0x08)
        case 0x74: out.append(0x09)
        case 0x6e: out.append(0x0a)
        case 0x66: out.append(0x0c)
        case 0x72: out.append(0x0d)
        case 0x22: out.append(0x22)
        case 0x5c: out.append(0x5c)
        case 0x75, 0x55:
            let count = c == 0x75 ? 4 : 8
            guard i + count <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + count)], as: UTF8.self), radix: 16) else {
                throw fail("\\\(c == 0x75 ? "u" : "U") needs \(count) hexadecimal digits")
            }
            i += count
            out += Array(String(Character(try scalar(v))).utf8)
        default:
            throw fail("unknown escape \\\(describe(c))")
        }
    }

    /// Checks a run of raw bytes for control characters and valid UTF-8, then returns it decoded.
    func text(_ raw: [UInt8], allowNewlines: Bool) throws(TOMLError) -> String {
        for c in raw where (c < 0x20 && c != 0x09 && !(allowNewlines && (c == 0x0a || c == 0x0d))) || c == 0x7f {
            throw fail("a control character in a string")
        }
        guard let s = String(validating: raw, as: UTF8.self) else { throw fail("a string that is not valid UTF-8") }
        return s
    }

    mutating func basicString() throws(TOMLError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("a string not closed before the end of the file") }
            switch c {
            case 0x22:
                i += 1
                return try text(out, allowNewlines: false)
            case 0x5c:
                try escape(into: &out)
            case 0x0a:
                throw fail("a string not closed on its line")
            default:
                out.append(c)
                i += 1
            }
        }
    }

    mutating func literalString() throws(TOMLError) -> String {
        i += 1
        let start = i
        while let c = peek, c != 0x27 {
            if c == 0x0a { throw fail("a string not closed on its line") }
            i += 1
        }
        guard peek == 0x27 else { throw fail("a string not closed before the end of the file") }
        let raw = Array(bytes[start..<i])
        i += 1
        return try text(raw, allowNewlines: false)
    }

    /// Skips the newline right after an opening `"""` or `'''`.
    mutating func skipLeadingNewline() {
        if peek == 0x0d, peek(1) == 0x0a { i += 1 }
        if peek == 0x0a { advance() }
    }

    mutating func multiLineBasicString() throws(TOMLError) -> String {
        try multiLineString(quote: 0x22, escapes: true)
    }

    mutating func multiLineLiteralString() throws(TOMLError) -> String {
        try multiLineString(quote: 0x27, escapes: false)
    }

    /// `"""…"""` (with escapes and line-ending backslashes) or `'''…'''` (raw).
    mutating func multiLineString(quote: UInt8, escapes: Bool) throws(TOMLError) -> String {
        i += 3
        skipLeadingNewline()
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("a multi-line string not closed before the end of the file") }
            if c == quote, peek(1) == quote, peek(2) == quote {
                i += 3
                // Up to two quotes right before the closing ones belong to the string.
                var extra = 0
                while peek == quote, extra < 2 {
                    out.append(quote)
                    i += 1
                    extra += 1
                }
                return try text(out, allowNewlines: true)
            }
            if escapes, c == 0x5c {
                // A backslash at the end of a line trims the line end and the next line's indentation.
                var j = i + 1
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
                if j < bytes.count, bytes[j] == 0x0a || (bytes[j] == 0x0d && j + 1 < bytes.count && bytes[j + 1] == 0x0a) {
                    i = j
                    while let w = peek, w == 0x20 || w == 0x09 || w == 0x0a || w == 0x0d { advance() }
                    continue
                }
                try escape(into: &out)
                continue
            }
            out.append(c)
            advance()
        }
    }

    // MARK: - Numbers and dates

    /// The token up to the next delimiter (space, comma, bracket, brace, comment, line end); a
    /// date-time may hold one space between date and time.
    mutating func token() -> [UInt8] {
        let start = i
        while let c = peek {
            if c == 0x20, i - start == 10, Self.isDate(Array(bytes[start..<i])), let d = peek(1), Self.isDigit(d) {
                i += 1  // "1979-05-27 07:32:00": the space separates date and time
                continue
            }
            if c == 0x20 || c == 0x09 || c == 0x2c || c == 0x5d || c == 0x7d || c == 0x23 || c == 0x0a || c == 0x0d { break }
            i += 1
        }
        return Array(bytes[start..<i])
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func isDate(_ t: [UInt8]) -> Bool {
        t.count == 10 && t[4] == 0x2d && t[7] == 0x2d && [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { isDigit(t[$0]) }
    }

    mutating func numberOrDate() throws(TOMLError) -> TOMLValue {
        let startColumn = (i, line, lineStart)
        let t = token()
        guard !t.isEmpty else { throw fail("expected a value, found \(describe(peek))") }
        let s = String(decoding: t, as: UTF8.self)
        if t.count >= 10, Self.isDate(Array(t.prefix(10))) || (t.count >= 8 && t[2] == 0x3a) {
            return .dateTime(try dateTime(s, at: startColumn))
        }
        if t.count >= 5, t[2] == 0x3a {
            return .dateTime(try dateTime(s, at: startColumn))
        }
        return try number(s, at: startColumn)
    }

    func failAt(_ at: (Int, Int, Int), _ reason: String) -> TOMLError {
        TOMLError(line: at.1, column: at.0 - at.2 + 1, reason: reason)
    }

    func number(_ s: String, at: (Int, Int, Int)) throws(TOMLError) -> TOMLValue {
        switch s {
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan": return .float(s.hasPrefix("+") ? String(s.dropFirst()) : s)
        default: break
        }
        let scalars = Array(s.utf8)
        // Underscores only between digits.
        for (k, c) in scalars.enumerated() where c == 0x5f {
            guard k > 0, k + 1 < scalars.count, Self.isHexDigit(scalars[k - 1]), Self.isHexDigit(scalars[k + 1]) else {
                throw failAt(at, "'\(s)': an underscore must stand between two digits")
            }
        }
        let plain = s.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where plain.hasPrefix(prefix) {
            guard let v = Int64(plain.dropFirst(2), radix: radix), v >= 0 else { throw failAt(at, "'\(s)' is not a 64-bit integer") }
            return .integer(v)
        }
        let unsigned = plain.first == "+" || plain.first == "-" ? String(plain.dropFirst()) : plain
        guard let first = unsigned.utf8.first, Self.isDigit(first) else { throw failAt(at, "'\(s)' is not a value (quote strings)") }
        if unsigned.utf8.allSatisfy(Self.isDigit) {
            if unsigned.count > 1, first == 0x30 { throw failAt(at, "'\(s)': leading zeros are not allowed") }
            guard let v = Int64(plain) else { throw failAt(at, "'\(s)' does not fit a 64-bit integer") }
            return .integer(v)
        }
        // A float: integer part, optional fraction, optional exponent.
        let bytes = Array(unsigned.utf8)
        var k = 0
        while k < bytes.count, Self.isDigit(bytes[k]) { k += 1 }
        if k > 1, bytes[0] == 0x30 { throw failAt(at, "'\(s)': leading zeros are not allowed") }
        if k < bytes.count, bytes[k] == 0x2e {
            k += 1
            let fraction = k
            while k < bytes.count, Self.isDigit(bytes[k]) { k += 1 }
            guard k > fraction else { throw failAt(at, "'\(s)': a decimal point needs digits after it") }
        }
        if k < bytes.count, bytes[k] == 0x65 || bytes[k] == 0x45 {
            k += 1
            if k < bytes.count, bytes[k] == 0x2b || bytes[k] == 0x2d { k += 1 }
            let exponent = k
            while k < bytes.count, Self.isDigit(bytes[k]) { k += 1 }
            guard k > exponent else { throw failAt(at, "'\(s)': an exponent needs digits") }
        }
        guard k == bytes.count else { throw failAt(at, "'\(s)' is not a number (quote strings)") }
        return .float(plain)
    }

    static func isHexDigit(_ c: UInt8) -> Bool { isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) }

    /// RFC 3339 (TOML's date-time forms), each field range-checked.
    func dateTime(_ s: String, at: (Int, Int, Int)) throws(TOMLError) -> TOMLDateTime {
        var d = TOMLDateTime(text: s)
        let t = Array(s.utf8)
        func int(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= t.count, t[range].allSatisfy(Self.isDigit) else { return nil }
            return Int(String(decoding: t[range], as: UTF8.self))
        }
        func bad() -> TOMLError { failAt(at, "'\(s)' is not a valid date or time") }
        var k = 0
        if Self.isDate(Array(t.prefix(10))) {
            guard let y = int(0..<4), let m = int(5..<7), let day = int(8..<10), (1...12).contains(m) else { throw bad() }
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
            guard (1...days).contains(day) else { throw bad() }
            (d.year, d.month, d.day) = (y, m, day)
            k = 10
            if k == t.count { return d }
            guard t[k] == 0x54 || t[k] == 0x74 || t[k] == 0x20 else { throw bad() }
            k += 1
        }
        guard let h = int(k..<(k + 2)), k + 5 <= t.count, t[k + 2] == 0x3a, let mi = int((k + 3)..<(k + 5)),
              (0...23).contains(h), (0...59).contains(mi) else { throw bad() }
        k += 5
        var sec = 0
        if k < t.count, t[k] == 0x3a {
            guard let s2 = int((k + 1)..<(k + 3)), (0...60).contains(s2) else { throw bad() }
            sec = s2
            k += 3
        } else {
            throw bad()  // TOML 1.0 requires seconds
        }
        (d.hour, d.minute, d.second) = (h, mi, sec)
        if k < t.count, t[k] == 0x2e {
            k += 1
            let start = k
            while k < t.count, Self.isDigit(t[k]) { k += 1 }
            guard k > start else { throw bad() }
            let digits = String(decoding: t[start..<min(k, start + 9)], as: UTF8.self)
            d.nanosecond = Int(digits.padding(toLength: 9, withPad: "0", startingAt: 0))
        }
        if k == t.count { return d }
        guard d.year != nil else { throw bad() }  // a local time has no offset
        if t[k] == 0x5a || t[k] == 0x7a {
            d.offsetMinutes = 0
            k += 1
        } else if t[k] == 0x2b || t[k] == 0x2d {
            guard let oh = int((k + 1)..<(k + 3)), k + 6 <= t.count, t[k + 3] == 0x3a, let om = int((k + 4)..<(k + 6)),
                  (0...23).contains(oh), (0...59).contains(om) else { throw bad() }
            d.offsetMinutes = (t[k] == 0x2d ? -1 : 1) * (oh * 60 + om)
            k += 6
        }
        guard k == t.count else { throw bad() }
        return d
    }
}

private extension TableBuilder {
    /// An inline table as a builder that nothing may extend.
    static func inline(from table: TOMLTable) -> TableBuilder {
        let b = TableBuilder()
        b.inline = true
        for key in table.keys { b.set(key, .value(table[key]!)) }
        return b
    }
}
