public import ChorusInference
import ChorusWorkerAPI
import Foundation

/// Which endpoint a body was sent to; the two share sampling parameters but differ in input
/// (`messages` vs `prompt`) and in what `logprobs` means (a boolean plus `top_logprobs` for
/// chat, a count for legacy completions).
public enum CompletionKind: Sendable, Equatable {
    case chat
    case text
}

/// A request body turned into a job plus how to answer it.
public struct ParsedRequest: Sendable, Equatable {
    public var kind: CompletionKind
    public var job: InferenceJob
    public var stream: Bool
    public var includeUsage: Bool
}

/// Parses `/v1/chat/completions` and `/v1/completions` bodies against a closed list of
/// parameters: anything else is a 400 naming it, so a client never believes a setting took
/// effect when the node ignored it (Gonka's gateway does the same; vLLM extensions such as
/// `guided_*` or `ignore_eos` are refused).
public enum RequestParser {
    static let chatParameters: Set<String> = [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop",
        "stream", "stream_options", "logprobs", "top_logprobs", "n", "user",
    ]
    static let textParameters: Set<String> = [
        "model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "stop", "stream", "stream_options",
        "logprobs", "n", "user",
    ]
    static let roles: Set<String> = ["system", "developer", "user", "assistant"]

    public static func parse(_ body: Data, kind: CompletionKind, limits: APILimits) throws(OpenAIError) -> ParsedRequest {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch {
            throw .invalid(nil, "The body is not valid JSON. Send a JSON object, e.g. {\"model\": \"…\", \"messages\": […]}.",
                           code: "invalid_json")
        }
        guard case let .object(fields) = document else {
            throw .invalid(nil, "The body must be a JSON object, not \(document.typeName).", code: "invalid_json")
        }
        guard document.depth <= limits.maxJSONDepth else {
            throw .invalid(nil, "The body nests arrays and objects more than \(limits.maxJSONDepth) deep.")
        }
        let allowed = kind == .chat ? chatParameters : textParameters
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalid(unknown, "Unrecognized request argument supplied: \(unknown). This endpoint accepts: "
                + allowed.sorted().joined(separator: ", ") + ".")
        }
        let p = Fields(fields)

        guard let model = try p.string("model") else { throw .invalid("model", "`model` is required.") }
        let input: InferenceJob.Input
        switch kind {
        case .chat: input = .chat(try messages(p, limits: limits))
        case .text: input = .text(try prompt(p))
        }

        var maxTokens = try p.integer("max_tokens")
        if let completionMax = try p.integer("max_completion_tokens") {
            if let maxTokens, maxTokens != completionMax {
                throw .invalid("max_completion_tokens", "`max_tokens` and `max_completion_tokens` disagree; send one of them.")
            }
            maxTokens = completionMax
        }
        if let maxTokens, !(1...limits.maxTokens).contains(maxTokens) {
            throw .invalid("max_tokens", "`max_tokens` must be between 1 and \(limits.maxTokens); got \(maxTokens).")
        }
        let temperature = try p.number("temperature") ?? 1
        guard (0...2).contains(temperature) else {
            throw .invalid("temperature", "`temperature` must be between 0 and 2; got \(temperature).")
        }
        let topP = try p.number("top_p") ?? 1
        guard topP > 0, topP <= 1 else { throw .invalid("top_p", "`top_p` must be in (0, 1]; got \(topP).") }
        let topK = try p.integer("top_k") ?? 0
        guard topK >= 0 else { throw .invalid("top_k", "`top_k` must be 0 (off) or more; got \(topK).") }
        if let n = try p.integer("n"), n != 1 {
            throw .invalid("n", "Only `n` = 1 is supported; send one request per completion.")
        }
        _ = try p.string("user")

        let stream = try p.bool("stream") ?? false
        var includeUsage = false
        if let options = p.fields["stream_options"], options != .null {
            guard stream else { throw .invalid("stream_options", "`stream_options` is only allowed with `stream: true`.") }
            guard case let .object(o) = options else { throw .invalid("stream_options", "`stream_options` must be an object.") }
            if let other = o.keys.sorted().first(where: { $0 != "include_usage" }) {
                throw .invalid("stream_options.\(other)", "Unrecognized stream option: \(other). Only `include_usage` is supported.")
            }
            includeUsage = try Fields(o).bool("include_usage", path: "stream_options.include_usage") ?? false
        }

        var topLogprobs: Int?
        switch kind {
        case .chat:
            let wanted = try p.bool("logprobs") ?? false
            let top = try p.integer("top_logprobs")
            if let top {
                guard wanted else { throw .invalid("top_logprobs", "`top_logprobs` needs `logprobs: true`.") }
                guard (0...limits.maxTopLogprobs).contains(top) else {
                    throw .invalid("top_logprobs", "`top_logprobs` must be between 0 and \(limits.maxTopLogprobs); got \(top).")
                }
            }
            topLogprobs = wanted ? (top ?? 0) : nil
        case .text:
            if let top = try p.integer("logprobs") {
                guard (0...limits.maxTopLogprobs).contains(top) else {
                    throw .invalid("logprobs", "`logprobs` must be between 0 and \(limits.maxTopLogprobs); got \(top).")
                }
                topLogprobs = top
            }
        }

        let job = InferenceJob(model: model, input: input, maxTokens: maxTokens, temperature: temperature, topP: topP,
                               topK: topK, stop: try stops(p, limits: limits), topLogprobs: topLogprobs)
        return ParsedRequest(kind: kind, job: job, stream: stream, includeUsage: includeUsage)
    }

    private static func messages(_ p: Fields, limits: APILimits) throws(OpenAIError) -> [ChatMessage] {
        guard let value = p.fields["messages"] else { throw .invalid("messages", "`messages` is required.") }
        guard case let .array(items) = value else { throw .invalid("messages", "`messages` must be an array.") }
        guard !items.isEmpty else { throw .invalid("messages", "`messages` must hold at least one message.") }
        guard items.count <= limits.maxMessages else {
            throw .invalid("messages", "`messages` holds \(items.count) messages; at most \(limits.maxMessages) are accepted.")
        }
        var result: [ChatMessage] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let path = "messages[\(i)]"
            guard case let .object(o) = item else { throw .invalid(path, "`\(path)` must be an object with `role` and `content`.") }
            if let other = o.keys.sorted().first(where: { $0 != "role" && $0 != "content" && $0 != "name" }) {
                throw .invalid("\(path).\(other)", "Unsupported message field `\(other)` (tools and function calls are not served).")
            }
            let m = Fields(o)
            guard let role = try m.string("role", path: "\(path).role") else { throw .invalid("\(path).role", "`\(path).role` is required.") }
            guard roles.contains(role) else {
                throw .invalid("\(path).role", "Unsupported role `\(role)`; use one of: \(roles.sorted().joined(separator: ", ")).")
            }
            _ = try m.string("name", path: "\(path).name")
            result.append(ChatMessage(role: role == "developer" ? "system" : role, content: try content(o["content"], path: "\(path).content")))
        }
        return result
    }

    /// A string, or OpenAI's array of `{"type": "text", "text": …}` parts (joined); images and
    /// audio are refused.
    private static func content(_ value: JSONValue?, path: String) throws(OpenAIError) -> String {
        switch value {
        case let .string(s)?: return s
        case let .array(parts)?:
            var text = ""
            for (i, part) in parts.enumerated() {
                guard case let .object(o) = part, o["type"] == .string("text"), case let .string(t)? = o["text"] else {
                    throw .invalid("\(path)[\(i)]", "Only text content parts (`{\"type\": \"text\", \"text\": …}`) are supported.")
                }
                text += t
            }
            return text
        case nil, .null?: throw .invalid(path, "`\(path)` is required.")
        case let other?: throw .invalid(path, "`\(path)` must be a string or an array of text parts, not \(other.typeName).")
        }
    }

    private static func prompt(_ p: Fields) throws(OpenAIError) -> String {
        switch p.fields["prompt"] {
        case let .string(s)?: return s
        case let .array(items)? where items.count == 1:
            if case let .string(s) = items[0] { return s }
            throw .invalid("prompt", "`prompt` must be a string (token-id prompts are not accepted).")
        case .array?: throw .invalid("prompt", "`prompt` must be one string; send one request per prompt.")
        case nil, .null?: throw .invalid("prompt", "`prompt` is required.")
        case let other?: throw .invalid("prompt", "`prompt` must be a string, not \(other.typeName).")
        }
    }

    private static func stops(_ p: Fields, limits: APILimits) throws(OpenAIError) -> [String] {
        let list: [String]
        switch p.fields["stop"] {
        case nil, .null?: return []
        case let .string(s)?: list = [s]
        case let .array(items)?:
            var strings: [String] = []
            for item in items {
                guard case let .string(s) = item else { throw .invalid("stop", "`stop` must be a string or an array of strings.") }
                strings.append(s)
            }
            list = strings
        case let other?: throw .invalid("stop", "`stop` must be a string or an array of strings, not \(other.typeName).")
        }
        guard list.count <= limits.maxStopSequences else {
            throw .invalid("stop", "At most \(limits.maxStopSequences) stop sequences are accepted; got \(list.count).")
        }
        for s in list {
            guard !s.isEmpty else { throw .invalid("stop", "A stop sequence must not be empty.") }
            guard s.utf8.count <= limits.maxStopBytes else {
                throw .invalid("stop", "A stop sequence may be at most \(limits.maxStopBytes) bytes; one has \(s.utf8.count).")
            }
        }
        return list
    }
}

/// Typed reads of an object's fields, with errors that name the field.
private struct Fields {
    let fields: [String: JSONValue]
    init(_ fields: [String: JSONValue]) { self.fields = fields }

    func string(_ key: String, path: String? = nil) throws(OpenAIError) -> String? {
        switch fields[key] {
        case nil, .null?: nil
        case let .string(s)?: s
        case let other?: throw .invalid(path ?? key, "`\(path ?? key)` must be a string, not \(other.typeName).")
        }
    }

    func bool(_ key: String, path: String? = nil) throws(OpenAIError) -> Bool? {
        switch fields[key] {
        case nil, .null?: nil
        case let .bool(b)?: b
        case let other?: throw .invalid(path ?? key, "`\(path ?? key)` must be a boolean, not \(other.typeName).")
        }
    }

    func number(_ key: String) throws(OpenAIError) -> Double? {
        switch fields[key] {
        case nil, .null?: nil
        case let .number(n)? where n.isFinite: n
        case let other?: throw .invalid(key, "`\(key)` must be a number, not \(other.typeName).")
        }
    }

    func integer(_ key: String) throws(OpenAIError) -> Int? {
        guard let n = try number(key) else { return nil }
        guard n == n.rounded(), abs(n) < 1e15 else { throw .invalid(key, "`\(key)` must be an integer; got \(n).") }
        return Int(n)
    }
}
