/// A protocol error of Specs/worker.md §3: an HTTP status, a stable `code` for programs, a
/// `message` for people and the JSON path of the offending `field` when there is one. The
/// in-process worker throws the same errors the HTTP worker sends, so callers handle one type.
public struct WorkerError: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?

    public init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String {
        "\(code) (HTTP \(status))" + (field.map { " at \($0)" } ?? "") + ": \(message)"
    }

    // Shorthands for this package's workers (ChorusCompute's WorkerService, ChorusWorkerHTTP's server).

    package static func invalid(_ field: String, _ message: String) -> WorkerError {
        WorkerError(status: 400, code: "invalid_request", message: message, field: field)
    }

    package static func unknownModel(_ id: String, field: String = "model") -> WorkerError {
        WorkerError(status: 404, code: "unknown_model", message: "no resident model with id '\(id)'; load it first", field: field)
    }

    package static func internalError(_ message: String) -> WorkerError {
        WorkerError(status: 500, code: "internal", message: message)
    }

    /// A Codable decoding failure as `invalid_request` naming the JSON path (`params.seq_len`,
    /// `prompt_tokens[3]`); property names are reported in the protocol's snake_case.
    public init(decoding error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let i = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == "\(i)" {
                    out += "[\(i)]"
                } else {
                    out += (out.isEmpty ? "" : ".") + WorkerError.snakeCase(key.stringValue)
                }
            }
            return out
        }
        switch error {
        case let .keyNotFound(key, context):
            let parent = path(context.codingPath)
            let name = WorkerError.snakeCase(key.stringValue)
            self = .invalid(parent.isEmpty ? name : parent + "." + name, "this field is required")
        case let .typeMismatch(type, context):
            self = .invalid(path(context.codingPath), "expected \(WorkerError.jsonType(type))")
        case let .valueNotFound(type, context):
            self = .invalid(path(context.codingPath), "expected \(WorkerError.jsonType(type)), got null")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                self = WorkerError(status: 400, code: "invalid_json", message: "the body is not valid JSON: \(context.debugDescription)")
            } else {
                self = .invalid(path(context.codingPath), context.debugDescription)
            }
        @unknown default:
            self = WorkerError(status: 400, code: "invalid_request", message: "\(error)")
        }
    }

    static func jsonType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is UInt64.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default: "a value of type \(type)"
        }
    }

    /// `promptTokens` → `prompt_tokens`.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for ch in name {
            if ch.isUppercase {
                out += "_" + ch.lowercased()
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
