public import ChorusWorkerAPI

/// One parsed, validated request, in the form a backend runs: the same for chat and legacy
/// completions, for a local worker and a remote executor.
public struct InferenceJob: Sendable, Equatable {
    public enum Input: Sendable, Equatable {
        /// Chat messages, rendered with the model's chat template (generation prompt added).
        case chat([ChatMessage])
        /// Raw text, tokenized as is.
        case text(String)
    }

    public var model: String
    public var input: Input
    /// Nil: `APILimits.defaultMaxTokens`, bounded by what the context leaves.
    public var maxTokens: Int?
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    /// Generation stops before the first occurrence of any of these; it is not part of the output.
    public var stop: [String]
    /// Alternatives per position (0 … 5); nil when logprobs were not asked for.
    public var topLogprobs: Int?

    public init(model: String, input: Input, maxTokens: Int? = nil, temperature: Double = 1, topP: Double = 1,
                topK: Int = 0, stop: [String] = [], topLogprobs: Int? = nil) {
        self.model = model
        self.input = input
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.stop = stop
        self.topLogprobs = topLogprobs
    }
}

/// One token's log-probability and its alternatives, with the token's text.
public struct TokenLogprob: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var token: String
        public var logprob: Double
        public init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }

    public var token: String
    public var logprob: Double
    public var top: [Alternative]

    public init(token: String, logprob: Double, top: [Alternative]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

/// Text that is final (no stop sequence can still start in it), with the logprobs of the tokens
/// that completed it.
public struct CompletionDelta: Sendable, Equatable {
    public var text: String
    public var logprobs: [TokenLogprob]

    public init(text: String, logprobs: [TokenLogprob] = []) {
        self.text = text
        self.logprobs = logprobs
    }
}

/// OpenAI's `finish_reason`.
public enum FinishReason: String, Sendable, Equatable {
    /// End of sequence or a stop sequence.
    case stop
    /// `max_tokens` reached.
    case length
}

/// How a job ended, and who served it.
public struct CompletionOutcome: Sendable, Equatable {
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var completionTokens: Int
    /// Where it ran: a node id (hex) or the local worker's name; returned in the `chorus` field.
    public var executor: String
    /// The request id (hex) and the executor's checked receipt (hex id) when it ran under a ticket
    /// (Specs/inference.md §2, §5); returned in the `chorus` field.
    public var requestID: String?
    public var receiptID: String?

    public init(finishReason: FinishReason, promptTokens: Int, completionTokens: Int, executor: String,
                requestID: String? = nil, receiptID: String? = nil) {
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.executor = executor
        self.requestID = requestID
        self.receiptID = receiptID
    }
}
