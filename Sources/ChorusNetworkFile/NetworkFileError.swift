/// A network file that cannot be used, with the file, the key (a dotted path such as
/// `models[1].p_mismatch`) and what was expected, so an operator can fix it from one line.
public struct NetworkFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    /// Dotted path of the offending key; empty for errors about the whole file.
    public let key: String
    public let expected: String
    public let found: String

    public init(file: String, key: String, expected: String, found: String) {
        self.file = file
        self.key = key
        self.expected = expected
        self.found = found
    }

    public var description: String {
        key.isEmpty
            ? "\(file): expected \(expected), found \(found)"
            : "\(file): key \(key): expected \(expected), found \(found)"
    }
}
