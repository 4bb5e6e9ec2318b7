import ChorusInference
/// The JSON bodies of OpenAI's completion responses and stream chunks, field for field, with
/// explicit `null`s where OpenAI sends them (`finish_reason` in chunks, absent `logprobs`),
/// plus a `chorus` extension field naming the executor and the request.

/// `usage`.
struct UsageBody: Encodable, Equatable {
    let promptTokens: Int
    let completionTokens: Int
    var totalTokens: Int { promptTokens + completionTokens }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
    }

    private enum Keys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }
}

/// The `chorus` extension: who served the request and under which id (OpenAI clients keep
/// unknown fields; the Python client exposes them as `response.chorus` / `model_extra`).
struct ChorusField: Encodable, Equatable {
    let executor: String
    /// The ticket's request id when the request ran under one, else the response id.
    let requestID: String
    /// The id of the executor's receipt, which the gateway checked before the last byte.
    let receiptID: String?

    init(_ outcome: CompletionOutcome, responseID: String) {
        executor = outcome.executor
        requestID = outcome.requestID ?? responseID
        receiptID = outcome.receiptID
    }

    private enum CodingKeys: String, CodingKey { case executor, requestID = "request_id", receiptID = "receipt_id" }
}

/// Chat `logprobs.content[]` entries.
struct ChatLogprobBody: Encodable {
    struct Alternative: Encodable {
        let token: String
        let logprob: Double
        let bytes: [UInt8]
    }
    let token: String
    let logprob: Double
    let bytes: [UInt8]
    let topLogprobs: [Alternative]

    init(_ l: TokenLogprob) {
        token = l.token
        logprob = l.logprob
        bytes = Array(l.token.utf8)
        topLogprobs = l.top.map { Alternative(token: $0.token, logprob: $0.logprob, bytes: Array($0.token.utf8)) }
    }

    private enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
}

/// Legacy completions' `logprobs` object (parallel arrays).
struct TextLogprobsBody: Encodable {
    var tokens: [String] = []
    var tokenLogprobs: [Double] = []
    var topLogprobs: [[String: Double]] = []
    var textOffset: [Int] = []

    init(_ logprobs: [TokenLogprob], startOffset: Int) {
        var offset = startOffset
        for l in logprobs {
            tokens.append(l.token)
            tokenLogprobs.append(l.logprob)
            topLogprobs.append(Dictionary(l.top.map { ($0.token, $0.logprob) }, uniquingKeysWith: { a, _ in a }))
            textOffset.append(offset)
            offset += l.token.count
        }
    }

    private enum CodingKeys: String, CodingKey {
        case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }
}

/// One choice of a response or chunk; which fields appear depends on the endpoint and on
/// whether it is a chunk.
struct ChoiceBody: Encodable {
    enum Content {
        /// Chat, non-streamed: `message`.
        case message(String)
        /// Chat chunk: `delta` (role on the first chunk only; content absent on the last).
        case delta(role: String?, content: String?)
        /// Legacy completions: `text`.
        case text(String)
    }

    let content: Content
    let chatLogprobs: [TokenLogprob]?
    let textLogprobs: TextLogprobsBody?
    let finishReason: FinishReason?

    /// A choice of `request`'s endpoint: logprobs in the chat or the legacy form, only when asked for.
    init(_ request: ParsedRequest, content: Content, logprobs: [TokenLogprob], finish: FinishReason?) {
        self.content = content
        let wanted = request.job.topLogprobs != nil
        chatLogprobs = wanted && request.kind == .chat ? logprobs : nil
        textLogprobs = wanted && request.kind == .text ? TextLogprobsBody(logprobs, startOffset: 0) : nil
        finishReason = finish
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(0, forKey: .index)
        switch content {
        case let .message(text):
            try c.encode(["role": "assistant", "content": text], forKey: .message)
        case let .delta(role, content):
            var delta: [String: String] = [:]
            if let role { delta["role"] = role }
            if let content { delta["content"] = content }
            try c.encode(delta, forKey: .delta)
        case let .text(text):
            try c.encode(text, forKey: .text)
        }
        if let chatLogprobs {
            try c.encode(["content": chatLogprobs.map(ChatLogprobBody.init)], forKey: .logprobs)
        } else if let textLogprobs {
            try c.encode(textLogprobs, forKey: .logprobs)
        } else {
            try c.encodeNil(forKey: .logprobs)
        }
        try c.encode(finishReason?.rawValue, forKey: .finishReason)
    }

    private enum Keys: String, CodingKey {
        case index, message, delta, text, logprobs, finishReason = "finish_reason"
    }
}

/// A whole response (`chat.completion`, `text_completion`) or one stream chunk
/// (`chat.completion.chunk`, `text_completion` again for legacy streams).
struct CompletionBody: Encodable {
    let id: String
    let object: String
    let created: Int
    let model: String
    let choices: [ChoiceBody]
    /// Present on whole responses; on chunks only with `include_usage` (null but the last).
    let usage: UsageBody??
    /// On whole responses and on a stream's last chunks (the executor is known once it answered).
    let chorus: ChorusField?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encode(choices, forKey: .choices)
        switch usage {
        case .none: break
        case .some(.none): try c.encodeNil(forKey: .usage)
        case let .some(.some(u)): try c.encode(u, forKey: .usage)
        }
        try c.encodeIfPresent(chorus, forKey: .chorus)
    }

    private enum Keys: String, CodingKey { case id, object, created, model, choices, usage, chorus }
}

/// `GET /v1/models`.
struct ModelListBody: Encodable {
    struct Model: Encodable {
        let id: String
        let object = "model"
        let created: Int
        let ownedBy = "chorus"

        private enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
    }
    let object = "list"
    let data: [Model]
}
