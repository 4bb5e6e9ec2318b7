import ChorusCrypto
public import ChorusWorkerAPI

extension WorkerService {
    /// Checks that every id of `tokens` is in the vocabulary, naming the first bad one.
    static func checkTokens(_ tokens: [Int], vocabulary: Int, field: String) throws(WorkerError) {
        for (i, id) in tokens.enumerated() where id < 0 || id >= vocabulary {
            throw WorkerError(status: 400, code: "invalid_token", message: "must be an integer in [0, \(vocabulary - 1)]", field: "\(field)[\(i)]")
        }
    }

    /// Enters the interactive section (counted against `max_concurrent_requests`).
    func beginServing() throws(WorkerError) {
        try table.withLock { t throws(WorkerError) in
            guard t.serving < limits.maxConcurrentRequests else {
                throw WorkerError(status: 429, code: "busy", message: "\(t.serving) inference requests are running; retry later")
            }
            t.serving += 1
        }
        gate.enter()
    }

    func endServing() {
        gate.leave()
        table.withLock { $0.serving -= 1 }
    }

    /// A validated generation request, ready to run: the HTTP server validates before it starts
    /// streaming, so bad input gets a 400 instead of an error line inside a 200 stream.
    public struct PreparedGeneration: Sendable {
        let loaded: LoadedModel
        let request: GenerationRequest
        let seed: UInt64?
    }

    public func prepare(_ request: GenerateRequest) throws(WorkerError) -> PreparedGeneration {
        let loaded = try model(request.model)
        let c = loaded.resident.model.config
        guard !request.promptTokens.isEmpty else { throw .invalid("prompt_tokens", "must hold at least one token id") }
        try Self.checkTokens(request.promptTokens, vocabulary: c.vocabularySize, field: "prompt_tokens")
        let maxTokens = request.maxTokens ?? 16
        guard (1...limits.maxTokens).contains(maxTokens) else { throw .invalid("max_tokens", "must be in [1, \(limits.maxTokens)]") }
        guard request.promptTokens.count + maxTokens <= c.contextLength else {
            throw WorkerError(status: 400, code: "context_overflow",
                              message: "prompt (\(request.promptTokens.count)) + max_tokens (\(maxTokens)) exceeds the context length \(c.contextLength)",
                              field: "max_tokens")
        }
        let topLogprobs = request.topLogprobs ?? 0
        guard (0...limits.maxTopLogprobs).contains(topLogprobs) else {
            throw .invalid("top_logprobs", "must be in [0, \(limits.maxTopLogprobs)]")
        }
        let stops = request.stopTokens ?? loaded.resident.tokenizer?.eosID.map { [$0] } ?? []
        try Self.checkTokens(stops, vocabulary: c.vocabularySize, field: "stop_tokens")
        let (sampling, seed) = try Self.sampling(request.sampling ?? SamplingMessage())
        return PreparedGeneration(loaded: loaded, request: GenerationRequest(
            promptTokens: request.promptTokens, maxTokens: maxTokens, sampling: sampling, stopTokens: Set(stops), topLogprobs: topLogprobs),
            seed: seed)
    }

    /// The sampling of a request (worker.md §6.1) and the u64 seed it used (nil: greedy or a tape
    /// seed). The tape key is `tape_seed` (the inference seed of Specs/inference.md §3) or one
    /// derived from the u64 `seed` (a random one when neither is given).
    static func sampling(_ s: SamplingMessage) throws(WorkerError) -> (SamplingParameters, seed: UInt64?) {
        let temperature = s.temperature ?? 0
        guard temperature.isFinite, temperature >= 0 else { throw .invalid("sampling.temperature", "must be a number ≥ 0") }
        let topK = s.topK ?? 0
        guard topK >= 0 else { throw .invalid("sampling.top_k", "must be ≥ 0 (0 = off)") }
        let topP = s.topP ?? 1
        guard topP > 0, topP <= 1 else { throw .invalid("sampling.top_p", "must be in (0, 1]") }
        var tapeSeed: Bytes32?
        if let hex = s.tapeSeed {
            guard s.seed == nil else { throw .invalid("sampling.tape_seed", "give at most one of 'seed' and 'tape_seed'") }
            guard hex.utf8.count == 64, hex == hex.lowercased(), let key = try? Bytes32(hex: hex) else {
                throw .invalid("sampling.tape_seed", "must be 64 lower-case hex characters (32 bytes)")
            }
            tapeSeed = key
        }
        let greedy = temperature == 0 || topK == 1
        let seed: UInt64? = greedy || tapeSeed != nil ? nil : (s.seed ?? SecureRandom.bytes(8).reduce(0) { $0 << 8 | UInt64($1) })
        let sampling = greedy ? SamplingParameters.greedy
            : SamplingParameters(temperature: temperature, topP: topP, topK: topK,
                                 tapeSeed: tapeSeed ?? SamplingParameters.tapeSeed(workerSeed: seed ?? 0))
        return (sampling, seed)
    }

    public func generate(_ request: GenerateRequest,
                         onToken: @escaping @Sendable (TokenLineMessage) -> Bool) async throws(WorkerError) -> GenerateMessage {
        try await generate(prepare(request), onToken: onToken)
    }

    public func generate(_ prepared: PreparedGeneration,
                         onToken: @escaping @Sendable (TokenLineMessage) -> Bool) async throws(WorkerError) -> GenerateMessage {
        try beginServing()
        let flag = CancelFlag()
        table.withLock { $0.generations[ObjectIdentifier(flag)] = flag }
        defer {
            table.withLock { $0.generations[ObjectIdentifier(flag)] = nil }
            endServing()
        }
        let engine = prepared.loaded.resident.model
        let generation = prepared.request
        let result = try await BlockingWork.run { () throws(WorkerError) -> GenerationResult in
            var index = 0
            do {
                return try engine.generate([generation]) { _, token in
                    let line = Self.tokenLine(index, token)
                    index += 1
                    return onToken(line) && !flag.cancelled
                }[0]
            } catch {
                throw .internalError("generation failed: \(error)")
            }
        }
        let lines = result.tokens.enumerated().map { i, t in Self.tokenLine(i, t) }
        return GenerateMessage(tokens: lines, finishReason: result.finishReason.rawValue, seed: prepared.seed,
                               usage: UsageMessage(promptTokens: generation.promptTokens.count, completionTokens: lines.count))
    }

    /// A generated token as a stream line; `tape` only when the tape chose it (margin omitted when
    /// infinite: one kept token; JSON has no infinity).
    static func tokenLine(_ index: Int, _ token: GeneratedToken) -> TokenLineMessage {
        let tape = token.choice.flatMap { c in
            c.usedTape ? TapeMessage(choice: c.token, kept: c.kept, margin: c.margin.isFinite ? c.margin : nil) : nil
        }
        return TokenLineMessage(index: index, id: token.token, logprob: token.logprob,
                                top: token.top.map { TopEntry(id: $0.token, logprob: $0.logprob) }, tape: tape)
    }

    public func score(_ request: ScoreRequestMessage) async throws(WorkerError) -> ScoreMessage {
        let loaded = try model(request.model)
        let engine = loaded.resident.model
        let c = engine.config
        guard !request.promptTokens.isEmpty else { throw .invalid("prompt_tokens", "must hold at least one token id") }
        guard !request.completionTokens.isEmpty else { throw .invalid("completion_tokens", "must hold at least one token id") }
        try Self.checkTokens(request.promptTokens, vocabulary: c.vocabularySize, field: "prompt_tokens")
        try Self.checkTokens(request.completionTokens, vocabulary: c.vocabularySize, field: "completion_tokens")
        // The last completion token is predicted but never fed, so the pass needs one position less.
        guard request.promptTokens.count + request.completionTokens.count - 1 <= c.contextLength else {
            throw WorkerError(status: 400, code: "context_overflow",
                              message: "prompt + completion (\(request.promptTokens.count + request.completionTokens.count)) exceed the context length \(c.contextLength)",
                              field: "completion_tokens")
        }
        let topLogprobs = request.topLogprobs ?? 0
        guard (0...limits.maxTopLogprobs).contains(topLogprobs) else {
            throw .invalid("top_logprobs", "must be in [0, \(limits.maxTopLogprobs)]")
        }
        // A check recomputes the executor's tape: it needs the tape's key unless the sampling is greedy.
        var sampling: SamplingParameters?
        if let s = request.sampling {
            guard s.seed == nil else { throw .invalid("sampling.seed", "a score request's sampling takes tape_seed (the receipt's seed), not seed") }
            let parsed = try Self.sampling(s).0
            guard parsed.isGreedy || s.tapeSeed != nil else {
                throw .invalid("sampling.tape_seed", "required unless the sampling is greedy (temperature 0 or top_k 1)")
            }
            sampling = parsed
        }
        try beginServing()
        defer { endServing() }
        let scoring = ScoreRequest(promptTokens: request.promptTokens, completionTokens: request.completionTokens, topLogprobs: topLogprobs,
                                   sampling: sampling)
        let scored = try await BlockingWork.run { () throws(WorkerError) -> [GeneratedToken] in
            do { return try engine.score([scoring])[0] } catch { throw .internalError("scoring failed: \(error)") }
        }
        return ScoreMessage(model: request.model,
                            tokens: scored.map { t in
                                ScoredTokenMessage(id: t.token, logprob: t.logprob, top: t.top.map { TopEntry(id: $0.token, logprob: $0.logprob) },
                                                   choice: t.choice.map { c in
                                                       ChoiceMessage(token: c.token, kept: c.kept,
                                                                     margin: c.marginToOther.flatMap { $0.isFinite ? $0 : nil })
                                                   })
                            },
                            usage: UsageMessage(promptTokens: request.promptTokens.count, completionTokens: request.completionTokens.count))
    }

    func tokenizer(of loaded: LoadedModel) throws(WorkerError) -> BPETokenizer {
        guard let tokenizer = loaded.resident.tokenizer else {
            throw WorkerError(status: 422, code: "unsupported", message: "model '\(loaded.resident.id)' has no tokenizer; send token ids", field: "model")
        }
        return tokenizer
    }

    public func tokenize(_ request: TokenizeRequest) async throws(WorkerError) -> TokenizeMessage {
        let loaded = try model(request.model)
        let tokenizer = try tokenizer(of: loaded)
        let text: String
        var rendered: String?
        switch (request.text, request.messages) {
        case let (t?, nil):
            text = t
        case let (nil, messages?):
            do {
                text = try loaded.resident.renderChat(messages, addGenerationPrompt: request.addGenerationPrompt ?? true)
            } catch {
                throw WorkerError(status: 422, code: "unsupported", message: "\(error)", field: "messages")
            }
            rendered = text
        default:
            throw .invalid("text", "give exactly one of 'text' and 'messages'")
        }
        guard text.utf8.count <= limits.maxTextBytes else {
            throw WorkerError(status: 413, code: "too_large", message: "text exceeds \(limits.maxTextBytes) bytes",
                              field: request.text == nil ? "messages" : "text")
        }
        let tokens = tokenizer.encode(text, parseSpecial: request.parseSpecial ?? true)
        return TokenizeMessage(model: request.model, tokens: tokens, text: rendered)
    }

    public func detokenize(_ request: DetokenizeRequest) async throws(WorkerError) -> DetokenizeMessage {
        let loaded = try model(request.model)
        let tokenizer = try tokenizer(of: loaded)
        try Self.checkTokens(request.tokens, vocabulary: tokenizer.vocabularySize, field: "tokens")
        let ids = (request.skipSpecial ?? false) ? request.tokens.filter { !tokenizer.isSpecial($0) } : request.tokens
        return DetokenizeMessage(model: request.model, text: tokenizer.decode(ids, renderSpecial: !(request.skipSpecial ?? false)))
    }
}
