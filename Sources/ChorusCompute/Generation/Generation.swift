public import ChorusCrypto
public import ChorusWorkerAPI
/// One prompt to continue.
public struct GenerationRequest: Sendable, Equatable {
    public var promptTokens: [Int]
    /// Upper bound on generated tokens (also bounded by the context length).
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Tokens that end the generation (included in the output as the last token), typically EOS.
    public var stopTokens: Set<Int>
    /// How many most-likely alternatives to report per generated token.
    public var topLogprobs: Int

    public init(promptTokens: [Int], maxTokens: Int, sampling: SamplingParameters = .greedy,
                stopTokens: Set<Int> = [], topLogprobs: Int = 0) {
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
        self.topLogprobs = topLogprobs
    }
}

/// One generated (or scored) token: its log-probability under the model — the unmodified
/// distribution (temperature 1, no truncation), so it is comparable with teacher-forced scoring —
/// and the `topLogprobs` most likely alternatives at that position.
public struct GeneratedToken: Sendable, Equatable, Hashable, Codable {
    public var token: Int
    public var logprob: Double
    public var top: [TokenLogprob]
    /// How the token was chosen: the tape's decision (kept-set size, margin), or greedy's. For a
    /// scored (teacher-forced) token: what the request's sampling would have chosen there, with its
    /// margin over the scored token (`marginToOther`); nil when scored without sampling.
    public var choice: TapeChoice?

    public init(token: Int, logprob: Double, top: [TokenLogprob], choice: TapeChoice? = nil) {
        self.token = token
        self.logprob = logprob
        self.top = top
        self.choice = choice
    }
}

public struct GenerationResult: Sendable, Equatable {
    public var tokens: [GeneratedToken]
    public var finishReason: FinishReason
    public var promptTokenCount: Int
}

extension LlamaModel {
    /// Continues several prompts together: one batched prefill, then decode steps that feed every
    /// still-running sequence's last token as one batch. `onToken(sequence, token)` is called for
    /// each token as soon as it is chosen (streaming); returning false stops that sequence.
    ///
    /// Errors (thrown before any work): empty prompt, unknown token ids, a prompt longer than the
    /// context, invalid sampling parameters, negative `maxTokens` or `topLogprobs`.
    public func generate(_ requests: [GenerationRequest],
                         onToken: (_ sequence: Int, _ token: GeneratedToken) -> Bool = { _, _ in true }) throws(ComputeError) -> [GenerationResult] {
        guard !requests.isEmpty else { throw .invalidRequest(reason: "no generation requests") }
        for (i, r) in requests.enumerated() {
            guard !r.promptTokens.isEmpty else { throw .emptySequence(index: i) }
            guard r.maxTokens >= 0, r.topLogprobs >= 0 else {
                throw .invalidRequest(reason: "max_tokens and top_logprobs must be ≥ 0")
            }
            for id in r.promptTokens where id < 0 || id >= config.vocabularySize {
                throw .unknownToken(id: id, vocabularySize: config.vocabularySize)
            }
            guard r.promptTokens.count <= config.contextLength else {
                throw .contextOverflow(needed: r.promptTokens.count, capacity: config.contextLength)
            }
            try r.sampling.validate()
        }

        var results = requests.map { GenerationResult(tokens: [], finishReason: .length, promptTokenCount: $0.promptTokens.count) }
        // A token generated at the last cache position cannot be fed back, so a sequence may
        // produce up to (context − prompt + 1) tokens.
        let limits = requests.map { min($0.maxTokens, config.contextLength - $0.promptTokens.count + 1) }
        var active = requests.indices.filter { limits[$0] > 0 }
        guard !active.isEmpty else { return results }
        let caches = try active.map { i throws(ComputeError) in
            try KVCache(model: self, capacity: min(config.contextLength, requests[i].promptTokens.count + limits[i]))
        }
        var cacheOf: [Int: KVCache] = [:]
        for (i, cache) in zip(active, caches) { cacheOf[i] = cache }

        var out = try forward(active.map { ForwardSequence(tokens: requests[$0].promptTokens, cache: cacheOf[$0]) })
        while !active.isEmpty {
            var next: [Int] = []
            var fed: [Int] = []
            for (row, i) in active.enumerated() {
                let logits = out.logits[row][0]
                // The tape's position is the output index: results[i].tokens.count tokens came before.
                let choice = try requests[i].sampling.choose(logits, position: results[i].tokens.count)
                let token = choice.token
                let lse = LogProbabilities.logSumExp(logits)
                let generated = GeneratedToken(token: token, logprob: Double(logits[logits.startIndex + token]) - lse,
                                               top: LogProbabilities.top(requests[i].topLogprobs, of: logits, logSumExp: lse),
                                               choice: choice)
                results[i].tokens.append(generated)
                if !onToken(i, generated) {
                    results[i].finishReason = .cancelled
                } else if requests[i].stopTokens.contains(token) {
                    results[i].finishReason = .stop
                } else if results[i].tokens.count >= limits[i] {
                    results[i].finishReason = .length
                } else {
                    next.append(token)
                    fed.append(i)
                }
            }
            active = fed
            if active.isEmpty { break }
            out = try forward(zip(next, active).map { ForwardSequence(tokens: [$0], cache: cacheOf[$1]) })
        }
        return results
    }

    /// Teacher-forced scoring: for each request, one forward pass over prompt + completion gives,
    /// at every completion position, the log-probability of the given completion token and the
    /// `topLogprobs` alternatives. Requests are batched into one pass.
    public func score(_ requests: [ScoreRequest]) throws(ComputeError) -> [[GeneratedToken]] {
        guard !requests.isEmpty else { throw .invalidRequest(reason: "no scoring requests") }
        var sequences: [ForwardSequence] = []
        for (i, r) in requests.enumerated() {
            guard !r.promptTokens.isEmpty else { throw .emptySequence(index: i) }
            guard !r.completionTokens.isEmpty else { throw .invalidRequest(reason: "request \(i) has no completion tokens to score") }
            guard r.topLogprobs >= 0 else { throw .invalidRequest(reason: "top_logprobs must be ≥ 0") }
            try r.sampling?.validate()
            for id in r.completionTokens where id < 0 || id >= config.vocabularySize {
                throw .unknownToken(id: id, vocabularySize: config.vocabularySize)
            }
            // The last completion token is only predicted, never fed.
            let input = r.promptTokens + r.completionTokens.dropLast()
            let first = r.promptTokens.count - 1
            sequences.append(ForwardSequence(tokens: input, logits: .rows(first..<(first + r.completionTokens.count))))
        }
        let out = try forward(sequences)
        return try requests.enumerated().map { (i, r) throws(ComputeError) -> [GeneratedToken] in
            let m = out.logits[i]
            return try r.completionTokens.enumerated().map { (k, token) throws(ComputeError) -> GeneratedToken in
                let row = m[k]
                let lse = LogProbabilities.logSumExp(row)
                return GeneratedToken(token: token, logprob: Double(row[row.startIndex + token]) - lse,
                                      top: LogProbabilities.top(r.topLogprobs, of: row, logSumExp: lse),
                                      choice: try r.sampling?.choose(row, position: k, against: token))
            }
        }
    }
}

/// A prompt and the completion to score under it (token ids).
public struct ScoreRequest: Sendable, Equatable {
    public var promptTokens: [Int]
    public var completionTokens: [Int]
    public var topLogprobs: Int
    /// When set, each position also reports the token this sampling would choose from its logits
    /// (the tape's position is the output index), for a validator's flip count.
    public var sampling: SamplingParameters?

    public init(promptTokens: [Int], completionTokens: [Int], topLogprobs: Int = 0, sampling: SamplingParameters? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.topLogprobs = topLogprobs
        self.sampling = sampling
    }
}
