internal import ChorusTOML
import ChorusCrypto
import ChorusProtocol

/// Reads one TOML table with typed accessors that name the key path in every error, and refuses
/// keys it was never asked about (a misspelled key must not silently fall back to a default).
struct TOMLFields {
    let table: TOMLTable
    let path: String
    let file: String
    private var consumed: Set<String> = []

    init(_ table: TOMLTable, path: String, file: String) {
        self.table = table
        self.path = path
        self.file = file
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, expected: String, found: String) -> NetworkFileError {
        NetworkFileError(file: file, key: keyPath(key), expected: expected, found: found)
    }

    private mutating func value(_ key: String, expected: String) throws(NetworkFileError) -> TOMLValue {
        consumed.insert(key)
        guard let value = table[key] else { throw error(key, expected: expected, found: "no such key") }
        return value
    }

    mutating func has(_ key: String) -> Bool { table[key] != nil }

    mutating func string(_ key: String) throws(NetworkFileError) -> String {
        let value = try value(key, expected: "a string")
        guard let s = value.string else { throw error(key, expected: "a string", found: Self.describe(value)) }
        return s
    }

    mutating func optionalString(_ key: String) throws(NetworkFileError) -> String? {
        has(key) ? try string(key) : nil
    }

    mutating func unsigned(_ key: String, max: UInt64 = UInt64(Int.max)) throws(NetworkFileError) -> UInt64 {
        let value = try value(key, expected: "an integer")
        guard let i = value.int else { throw error(key, expected: "an integer from 0 to \(max)", found: Self.describe(value)) }
        guard i >= 0, UInt64(i) <= max else { throw error(key, expected: "an integer from 0 to \(max)", found: "\(i)") }
        return UInt64(i)
    }

    /// A fraction written as a TOML float or integer (read exactly from its decimal digits, e.g.
    /// `0.1` is 1/10) or as a string `"a/b"` (e.g. `"2/3"`).
    mutating func ratio(_ key: String) throws(NetworkFileError) -> Ratio {
        let expected = "a non-negative number (e.g. 0.05) or a fraction string such as \"2/3\""
        let value = try value(key, expected: expected)
        if let i = value.int {
            guard i >= 0, let r = try? Ratio(UInt64(i), 1) else { throw error(key, expected: expected, found: "\(i)") }
            return r
        }
        if let literal = value.floatLiteral {
            guard let r = Self.decimalRatio(literal) else { throw error(key, expected: expected + " with at most 12 decimals", found: literal) }
            return r
        }
        if let s = value.string {
            let parts = s.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let n = UInt64(parts[0]), let d = UInt64(parts[1]), let r = try? Ratio(n, d) else {
                throw error(key, expected: expected, found: "\"\(s)\"")
            }
            return r
        }
        throw error(key, expected: expected, found: Self.describe(value))
    }

    mutating func optionalBool(_ key: String) throws(NetworkFileError) -> Bool? {
        guard has(key) else { return nil }
        let value = try value(key, expected: "true or false")
        guard let b = value.bool else { throw error(key, expected: "true or false", found: Self.describe(value)) }
        return b
    }

    mutating func optionalStrings(_ key: String) throws(NetworkFileError) -> [String]? {
        guard has(key) else { return nil }
        let value = try value(key, expected: "an array of strings")
        guard let array = value.array else { throw error(key, expected: "an array of strings", found: Self.describe(value)) }
        var out: [String] = []
        for (i, element) in array.enumerated() {
            guard let s = element.string else { throw error("\(key)[\(i)]", expected: "a string", found: Self.describe(element)) }
            out.append(s)
        }
        return out
    }

    mutating func table(_ key: String) throws(NetworkFileError) -> TOMLFields {
        let value = try value(key, expected: "a table [\(keyPath(key))]")
        guard let t = value.table else { throw error(key, expected: "a table [\(keyPath(key))]", found: Self.describe(value)) }
        return TOMLFields(t, path: keyPath(key), file: file)
    }

    mutating func tableArray(_ key: String) throws(NetworkFileError) -> [TOMLFields] {
        let value = try value(key, expected: "an array of tables [[\(keyPath(key))]]")
        guard let array = value.array else { throw error(key, expected: "an array of tables [[\(keyPath(key))]]", found: Self.describe(value)) }
        var result: [TOMLFields] = []
        for (i, element) in array.enumerated() {
            guard let t = element.table else { throw error("\(key)[\(i)]", expected: "a table", found: Self.describe(element)) }
            result.append(TOMLFields(t, path: "\(keyPath(key))[\(i)]", file: file))
        }
        return result
    }

    /// Milliseconds since 1970 from an offset date-time (`2026-01-01T00:00:00Z`) or an integer.
    mutating func unixMs(_ key: String) throws(NetworkFileError) -> Int64 {
        let expected = "an offset date-time such as 2026-01-01T00:00:00Z, or milliseconds since 1970 as an integer"
        let value = try value(key, expected: expected)
        if let i = value.int { return Int64(i) }
        guard let dt = value.dateTime, let offset = dt.offsetMinutes, let year = dt.year, let month = dt.month, let day = dt.day,
              let hour = dt.hour, let minute = dt.minute, let second = dt.second
        else { throw error(key, expected: expected, found: Self.describe(value)) }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset) * 60
        return seconds * 1000 + Int64((dt.nanosecond ?? 0) / 1_000_000)
    }

    /// Throws for the first key of the table that no accessor asked for.
    func finish() throws(NetworkFileError) {
        for key in table.keys.sorted() where !consumed.contains(key) {
            throw error(key, expected: "no such key here (misspelled or misplaced?)", found: "an unknown key")
        }
    }

    // MARK: Helpers

    static func describe(_ value: TOMLValue) -> String {
        "a TOML \(value.typeName) (\(value.description.prefix(40)))"
    }

    /// An exact ratio from a decimal literal such as `0.05`, `2`, `1e-05` or `1.5e-3`.
    static func decimalRatio(_ text: String) -> Ratio? {
        let lower = text.lowercased()
        let mantissaAndExponent = lower.split(separator: "e", omittingEmptySubsequences: false)
        guard (1...2).contains(mantissaAndExponent.count) else { return nil }
        var exponent = 0
        if mantissaAndExponent.count == 2 {
            guard let e = Int(mantissaAndExponent[1]) else { return nil }
            exponent = e
        }
        let parts = mantissaAndExponent[0].split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        let digits = String(parts[0]) + (parts.count == 2 ? String(parts[1]) : "")
        exponent -= parts.count == 2 ? parts[1].count : 0
        guard !digits.isEmpty, digits.count <= 18, let n = UInt64(digits) else { return nil }
        if exponent >= 0 {
            guard exponent <= 6 else { return nil }
            var value = n
            for _ in 0..<exponent {
                let m = value.multipliedReportingOverflow(by: 10)
                if m.overflow { return nil }
                value = m.partialValue
            }
            return try? Ratio(value, 1)
        }
        guard -exponent <= 12 else { return nil }
        var denominator: UInt64 = 1
        for _ in 0 ..< -exponent { denominator *= 10 }
        return try? Ratio(n, denominator)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
