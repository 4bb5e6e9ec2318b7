import ChorusNode

/// How the CLI reports a control request that failed: the node's typed `ControlError` (or the
/// client's own `ControlClientError`) becomes a `CLIFailure` whose message says what to do, and
/// whose code is the wire's `error_code` for `--json`.
extension CLIFailure {
    /// A request the node refused, or one this CLI found invalid before sending it.
    init(_ error: ControlError) {
        let message: String
        switch error {
        case .unknownMethod, .malformedRequest, .other(code: .some, _):
            // This CLI only sends requests it can decode itself: the node speaks another version.
            message = "\(error.description) (the node runs another version of Chorus than this `chorus`; use the `chorus` built with its `chorusd`)"
        case .badParameter, .notConnected, .timedOut, .unknownMessage, .noEpochs, .noFinalTable, .noExportBase, .noStore,
             .membershipNotRunning, .notRunning, .storageFailed, .refused, .internalError, .other(code: nil, _):
            message = error.description
        }
        // A parameter the CLI built from its arguments: the invocation is wrong.
        let status = if case .badParameter = error { CLIFailure.usageStatus } else { CLIFailure.failureStatus }
        self.init(message: message, status: status, code: error.code, details: error.details)
    }

    /// The client's failure: the node's error when it answered with one, else the client's own.
    init(_ error: ControlClientError) {
        if case let .nodeError(nodeError) = error {
            self.init(nodeError)
        } else {
            self.init(message: error.description, status: CLIFailure.failureStatus, code: error.code)
        }
    }
}
