/// A failure reported as `chorus: <message>` on stderr with a specific exit status.
struct CLIFailure: Error, CustomStringConvertible {
    /// The operation ran and failed, or its answer is "no".
    static let failureStatus: Int32 = 1
    /// The invocation is wrong: malformed argument, unreadable input.
    static let usageStatus: Int32 = 2

    let message: String
    let status: Int32

    /// Exit 1: the operation ran and failed.
    static func failed(_ message: String) -> CLIFailure { CLIFailure(message: message, status: failureStatus) }

    /// Exit 2: the arguments or input cannot be used.
    static func usage(_ message: String) -> CLIFailure { CLIFailure(message: message, status: usageStatus) }

    var description: String { message }
}
