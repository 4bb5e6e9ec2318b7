public import ChorusCrypto

/// The canonical form of a job on one model (Specs/inference.md §1): the prompt as token ids after
/// the model's chat template, the output budget resolved against the context, and the ids that end
/// a generation. The executor prepares a job, the gateway signs a ticket over exactly this, and the
/// tape that ticket seeds picks every output token.
public struct PreparedJob: Sendable, Equatable {
    public var promptTokens: [Int]
    public var maxTokens: Int
    /// End-of-sequence ids: generation ends at the first one, which is the last output token.
    public var stopTokens: [Int]

    public init(promptTokens: [Int], maxTokens: Int, stopTokens: [Int]) {
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.stopTokens = stopTokens
    }
}

/// What an executor produced besides the text: the ids a receipt binds.
public struct GeneratedOutput: Sendable, Equatable {
    public var outcome: CompletionOutcome
    /// The output ids, up to and including the one that ended it (a stop token, or the token whose
    /// text completed a stop sequence); a cancelled generation's ids up to where it stopped.
    public var tokens: [Int]
    /// The index in `tokens` of the token that completed a stop sequence (nil: none did).
    public var stopSequenceEnd: Int?
    /// The client went away (or the gateway cancelled) before a stop or `max_tokens`.
    public var cancelled: Bool

    public init(outcome: CompletionOutcome, tokens: [Int], stopSequenceEnd: Int?, cancelled: Bool) {
        self.outcome = outcome
        self.tokens = tokens
        self.stopSequenceEnd = stopSequenceEnd
        self.cancelled = cancelled
    }
}

/// What a validator's model chooses at one output position of a re-run (Specs/inference.md §7.1):
/// the sampler's token from its own logits, and that token's score minus the executor's (0 when
/// they agree; nil when the executor's token is outside the kept set).
public struct RecomputedChoice: Sendable, Equatable {
    public var token: Int
    public var margin: Double?

    public init(token: Int, margin: Double?) {
        self.token = token
        self.margin = margin
    }
}

/// What a node runs inference on when it is the executor: a job is first prepared (tokenized and
/// bounded), then generated from the tape a gateway's ticket seeds, so the receipt can name the
/// exact ids. Running a job without a ticket (`run`) generates from a random seed.
public protocol ExecutorBackend: InferenceBackend {
    func prepare(_ job: InferenceJob, limits: APILimits) async throws(OpenAIError) -> PreparedJob

    /// Generates `prepared` with `job`'s sampling; `tapeSeed` keys the public tape
    /// (nil: a random seed). `onDelta` returning false stops the generation at its next token.
    func generate(_ job: InferenceJob, prepared: PreparedJob, tapeSeed: Bytes32?,
                  onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> GeneratedOutput

    /// A validator's re-run: the model teacher-forced over `prompt ‖ output`, choosing each output
    /// position's token with `sampling` (its temperature, top-k and top-p) from the tape keyed by
    /// `tapeSeed` (nil: greedy). One choice per output token.
    func recompute(model: String, promptTokens: [Int], outputTokens: [Int], sampling: InferenceJob,
                   tapeSeed: Bytes32?) async throws(OpenAIError) -> [RecomputedChoice]
}

extension ExecutorBackend {
    public func run(_ job: InferenceJob, limits: APILimits,
                    onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
        let prepared = try await prepare(job, limits: limits)
        return try await generate(job, prepared: prepared, tapeSeed: nil, onDelta: onDelta).outcome
    }
}
