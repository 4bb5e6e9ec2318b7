/// A failure reported as `chorus: <message>` on stderr with a specific exit status.
struct CLIFailure: Error, CustomStringConvertible {
    /// The operation ran and failed, or its answer is "no".
    static let failureStatus: Int32 = 1
    /// The invocation is wrong: malformed argument, unreadable input.
    static let usageStatus: Int32 = 2

    let message: String
    let status: Int32
    /// A machine-readable code (a control error's `error_code`, Specs/control.md) and its fields:
    /// with `--json`, the failure is also printed to stdout as `{"error", "error_code", "error_details"}`.
    var code: String? = nil
    var details: [String: String] = [:]

    /// Exit 1: the operation ran and failed.
    static func failed(_ message: String, code: String? = nil) -> CLIFailure {
        CLIFailure(message: message, status: failureStatus, code: code)
    }

    /// Exit 2: the arguments or input cannot be used.
    static func usage(_ message: String, code: String? = nil) -> CLIFailure {
        CLIFailure(message: message, status: usageStatus, code: code)
    }

    var description: String { message }

    /// What `--json` prints for this failure.
    struct JSONForm: Encodable {
        var error: String
        var errorCode: String?
        var errorDetails: [String: String]?
    }

    var jsonForm: JSONForm { JSONForm(error: message, errorCode: code, errorDetails: details.isEmpty ? nil : details) }
}
