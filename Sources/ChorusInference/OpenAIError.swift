import Foundation

/// An error in OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`), so the
/// `openai` client libraries raise their usual exception classes (BadRequestError,
/// AuthenticationError, RateLimitError, …) with our message. Every failure the API reports —
/// bad input, unknown model, busy or unreachable executors — is one of these.
public struct OpenAIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    /// OpenAI's error class: `invalid_request_error`, `authentication_error`, `rate_limit_error`,
    /// `not_found_error`, `server_error`.
    public var type: String
    /// The request field at fault, if one is.
    public var param: String?
    public var code: String?
    /// Sent as the `Retry-After` header (rate limits), not in the body.
    public var retryAfterSeconds: Int?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil,
                retryAfterSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status) \(code ?? type): \(message)" }

    public static func invalid(_ param: String?, _ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func unknownModel(_ model: String, available: [String]) -> OpenAIError {
        let list = available.isEmpty ? "this node serves no model yet" : "available: \(available.joined(separator: ", "))"
        return OpenAIError(status: 404, message: "The model `\(model)` does not exist or is not served here (\(list)).",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    public static let unauthorized = OpenAIError(
        status: 401, message: "Missing or wrong API key. Send it as `Authorization: Bearer KEY`.",
        type: "authentication_error", code: "invalid_api_key")

    public static func rateLimited(retryAfterSeconds: Int) -> OpenAIError {
        OpenAIError(status: 429, message: "Rate limit reached for this API key; retry in \(retryAfterSeconds) s.",
                    type: "rate_limit_error", code: "rate_limit_exceeded", retryAfterSeconds: retryAfterSeconds)
    }

    public static func overloaded(_ reason: String) -> OpenAIError {
        OpenAIError(status: 503, message: reason, type: "server_error", code: "overloaded")
    }

    public static func internalError(_ message: String) -> OpenAIError {
        OpenAIError(status: 500, message: message, type: "server_error", code: "internal_error")
    }

    /// The JSON body.
    public var body: Data {
        struct Body: Encodable {
            struct Inner: Encodable {
                let message: String
                let type: String
                let param: String?
                let code: String?
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(message, forKey: .message)
                    try c.encode(type, forKey: .type)
                    try c.encode(param, forKey: .param)
                    try c.encode(code, forKey: .code)
                }
                enum CodingKeys: String, CodingKey { case message, type, param, code }
            }
            let error: Inner
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Strings and optionals only: encoding cannot fail.
        return (try? encoder.encode(Body(error: .init(message: message, type: type, param: param, code: code)))) ?? Data()
    }
}
