/// Why a control request failed (Specs/control.md, "Errors"). On the wire an error answer carries
/// the human `error` message, a stable machine-readable `error_code` and, for the cases that have
/// any, the case's fields as `error_details` (an object of strings), so a client decodes the same
/// case the node produced.
public enum ControlError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line is not a request object: not JSON, no string `method`, `params` not an object of strings.
    case malformedRequest(reason: String)
    /// No such method.
    case unknownMethod(String)
    /// A parameter of `method` is missing or not what it must be.
    case badParameter(method: String, parameter: String, expected: String)
    /// `ping`: the node has no session with this peer (64 hex).
    case notConnected(peer: String)
    /// `ping`: the peer did not answer in time.
    case timedOut(peer: String, after: Duration)
    /// `trace`: this node has not seen (or no longer remembers) the message.
    case unknownMessage(id: String)
    /// The method needs epochs, and the node runs without a network file.
    case noEpochs
    /// `weights`: no final weight table (for `epoch`, or at all when nil).
    case noFinalTable(epoch: UInt64?)
    /// `epoch-export`: epoch − 1 has no final table here, so `epoch` has no base to export.
    case noExportBase(epoch: UInt64)
    /// `epoch-export`: the node keeps no statement store.
    case noStore
    /// `members`: SWIM is not running (no listen address could bind UDP).
    case membershipNotRunning
    /// The node is shutting down.
    case notRunning
    /// The store failed to take or commit what the node was asked to keep.
    case storageFailed(reason: String)
    /// The node ran the request and said no (a statement the node's own checks refuse, an unknown
    /// model, a self-delegation, a verify-only node, a body over the gossip limit, ...).
    case refused(reason: String)
    /// The node failed in a way no request can fix.
    case internalError(reason: String)
    /// An error this client does not know: a code added after it (`code`), or an answer from a node
    /// that sends no code (nil).
    case other(code: String?, message: String)

    /// The wire's `error_code`.
    public var code: String? {
        switch self {
        case .malformedRequest: "malformed_request"
        case .unknownMethod: "unknown_method"
        case .badParameter: "bad_parameter"
        case .notConnected: "not_connected"
        case .timedOut: "timed_out"
        case .unknownMessage: "unknown_message"
        case .noEpochs: "no_epochs"
        case .noFinalTable: "no_final_table"
        case .noExportBase: "no_export_base"
        case .noStore: "no_store"
        case .membershipNotRunning: "membership_not_running"
        case .notRunning: "not_running"
        case .storageFailed: "storage_failed"
        case .refused: "refused"
        case .internalError: "internal"
        case let .other(code, _): code
        }
    }

    /// The wire's `error_details`: the case's fields as strings (empty for cases without any).
    public var details: [String: String] {
        switch self {
        case let .malformedRequest(reason), let .storageFailed(reason), let .refused(reason), let .internalError(reason):
            ["reason": reason]
        case let .unknownMethod(method): ["method": method]
        case let .badParameter(method, parameter, expected): ["method": method, "parameter": parameter, "expected": expected]
        case let .notConnected(peer): ["peer": peer]
        case let .timedOut(peer, after): ["peer": peer, "after_ms": "\(Self.milliseconds(after))"]
        case let .unknownMessage(id): ["id": id]
        case let .noFinalTable(epoch): epoch.map { ["epoch": "\($0)"] } ?? [:]
        case let .noExportBase(epoch): ["epoch": "\(epoch)"]
        case .noEpochs, .noStore, .membershipNotRunning, .notRunning, .other: [:]
        }
    }

    /// The error a client reads back from an answer's `error_code`, `error` and `error_details`.
    /// A code it does not know, or details that do not fit the code, give `.other`.
    public init(code: String?, message: String, details: [String: String]) {
        let other = ControlError.other(code: code, message: message)
        func field(_ name: String) -> String? { details[name] }
        let decoded: ControlError? = switch code {
        case "malformed_request": field("reason").map { .malformedRequest(reason: $0) }
        case "unknown_method": field("method").map { .unknownMethod($0) }
        case "bad_parameter":
            field("method").flatMap { method in
                field("parameter").flatMap { parameter in
                    field("expected").map { .badParameter(method: method, parameter: parameter, expected: $0) }
                }
            }
        case "not_connected": field("peer").map { .notConnected(peer: $0) }
        case "timed_out":
            field("peer").flatMap { peer in field("after_ms").flatMap { Int64($0) }.map { .timedOut(peer: peer, after: .milliseconds($0)) } }
        case "unknown_message": field("id").map { .unknownMessage(id: $0) }
        case "no_epochs": .noEpochs
        case "no_final_table":
            if let text = field("epoch") { UInt64(text).map { .noFinalTable(epoch: $0) } } else { .noFinalTable(epoch: nil) }
        case "no_export_base": field("epoch").flatMap { UInt64($0) }.map { .noExportBase(epoch: $0) }
        case "no_store": .noStore
        case "membership_not_running": .membershipNotRunning
        case "not_running": .notRunning
        case "storage_failed": field("reason").map { .storageFailed(reason: $0) }
        case "refused": field("reason").map { .refused(reason: $0) }
        case "internal": field("reason").map { .internalError(reason: $0) }
        default: nil
        }
        self = decoded ?? other
    }

    /// A node function's error as the control socket reports it.
    public init(_ error: NodeError) {
        switch error {
        case let .notConnected(peer): self = .notConnected(peer: peer)
        case let .pingTimedOut(peer, after): self = .timedOut(peer: peer, after: after)
        case .notRunning: self = .notRunning
        case let .invalidRequest(why): self = .refused(reason: why)
        case let .storageFailed(why): self = .storageFailed(reason: why)
        // Starting a node's sockets, never the answer to a request.
        case .invalidAddress, .listenFailed, .controlSocketFailed: self = .internalError(reason: error.description)
        }
    }

    /// What went wrong and, where something can be done about it, what to do.
    public var description: String {
        switch self {
        case let .malformedRequest(reason): "malformed request: \(reason)"
        case let .unknownMethod(method):
            "unknown method \"\(method)\"; known: \(ControlMethod.allCases.map(\.rawValue).joined(separator: ", "))"
        case let .badParameter(method, parameter, expected): "\(method) needs params.\(parameter): \(expected)"
        case let .notConnected(peer): NodeError.notConnected(peer).description
        case let .timedOut(peer, after): NodeError.pingTimedOut(peer, after).description
        case let .unknownMessage(id):
            "this node has not seen message \(id) (it remembers the last 50,000; `chorus messages` lists what it delivered)"
        case .noEpochs: "this node does not follow epochs (start it with a network file: `chorusd run --network-file FILE`)"
        case let .noFinalTable(epoch):
            "no final weight table yet\(epoch.map { " for epoch \($0)" } ?? ""); `chorus epoch show\(epoch.map { " \($0)" } ?? "")` says where it stands"
        case let .noExportBase(epoch):
            "epoch \(epoch &- 1) has no final table here, so epoch \(epoch) has no base to export; `chorus epoch show \(epoch &- 1)` says why"
        case .noStore: "this node keeps no statement store; nothing to export"
        case .membershipNotRunning: "membership is not running (no listen address could bind UDP)"
        case .notRunning: "the node is not running (it is shutting down)"
        case let .storageFailed(reason): NodeError.storageFailed(reason).description
        case let .refused(reason): reason
        case let .internalError(reason): "internal: \(reason)"
        case let .other(_, message): message
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
