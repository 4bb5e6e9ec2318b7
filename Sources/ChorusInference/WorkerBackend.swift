public import ChorusCrypto
public import ChorusWorkerAPI
import Synchronization

/// Runs jobs on a worker (the node's in-process `WorkerService` or a `WorkerHTTPClient`):
/// renders chat messages with the model's template, generates with the job's sampling, turns
/// token ids into text as they arrive (holding back an incomplete UTF-8 character and anything
/// that could still become a stop sequence) and maps worker errors onto OpenAI's.
public struct WorkerBackend: ExecutorBackend {
    let worker: any WorkerAPI
    let executor: String

    /// `executor` names who serves (this node's id) in each response's `chorus` field.
    public init(worker: any WorkerAPI, executor: String) {
        self.worker = worker
        self.executor = executor
    }

    public func models() async throws(OpenAIError) -> [String] {
        try await mapped { try await worker.state().models }
    }

    public func prepare(_ job: InferenceJob, limits: APILimits) async throws(OpenAIError) -> PreparedJob {
        let worker = self.worker
        let resident = try await mapped { try await worker.models().models }
        guard let model = resident.first(where: { $0.id == job.model }) else {
            throw .unknownModel(job.model, available: resident.map(\.id))
        }
        guard model.tokenizer else {
            throw .invalid("model", "The model `\(job.model)` has no tokenizer (a synthetic PoC model); it cannot serve text.")
        }
        let prompt: [Int] = try await mapped {
            switch job.input {
            case let .chat(messages):
                guard model.chatTemplate else {
                    throw OpenAIError.invalid("messages", "The model `\(job.model)` has no chat template; use /v1/completions with a prompt.")
                }
                return try await worker.tokenize(TokenizeRequest(model: job.model, messages: messages, addGenerationPrompt: true)).tokens
            case let .text(text):
                return try await worker.tokenize(TokenizeRequest(model: job.model, text: text)).tokens
            }
        }
        let context = model.config.contextLength
        guard prompt.count < context else {
            throw .invalid(job.input.isChat ? "messages" : "prompt",
                           "The prompt is \(prompt.count) tokens; the model's context is \(context), which leaves no room to generate.",
                           code: "context_length_exceeded")
        }
        let maxTokens = job.maxTokens ?? min(limits.defaultMaxTokens, context - prompt.count)
        guard prompt.count + maxTokens <= context else {
            throw .invalid("max_tokens", "The prompt (\(prompt.count) tokens) plus max_tokens (\(maxTokens)) exceeds the model's "
                + "context of \(context) tokens; lower max_tokens to \(context - prompt.count) or shorten the prompt.",
                           code: "context_length_exceeded")
        }
        return PreparedJob(promptTokens: prompt, maxTokens: maxTokens, stopTokens: model.eosId.map { [$0] } ?? [])
    }

    public func generate(_ job: InferenceJob, prepared: PreparedJob, tapeSeed: Bytes32?,
                         onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> GeneratedOutput {
        let worker = self.worker
        let sampling = SamplingMessage(temperature: job.temperature, topK: job.topK, topP: job.topP,
                                       seed: tapeSeed == nil ? UInt64.random(in: .min ... .max) : nil,
                                       tapeSeed: tapeSeed?.hex)
        let request = GenerateRequest(model: job.model, promptTokens: prepared.promptTokens, maxTokens: prepared.maxTokens,
                                      sampling: sampling, topLogprobs: job.topLogprobs, stopTokens: prepared.stopTokens, stream: true)

        // The worker calls back synchronously per token; text needs async detokenize calls, so
        // tokens flow through a stream to this task, and a stop (client gone, stop sequence)
        // flows back through `halt`, which the worker reads at its next token.
        let (lines, continuation) = AsyncStream<TokenLineMessage>.makeStream()
        let halt = Atomic<Bool>(false)
        let generation = Task { () throws -> GenerateMessage in
            defer { continuation.finish() }
            return try await worker.generate(request) { line in
                continuation.yield(line)
                return !halt.load(ordering: .relaxed)
            }
        }
        var detokenizer = Detokenizer(worker: worker, model: job.model)
        var filter = StopSequenceFilter(stops: job.stop)
        var pending: [TokenLogprob] = []
        var cancelled = false
        var stopSequenceEnd: Int?
        do {
            for await line in lines {
                // Tokens the worker made after a stop or a cancel are not part of the output.
                guard !filter.stopped, !cancelled else { continue }
                if let top = job.topLogprobs {
                    pending.append(try await detokenizer.logprob(line, alternatives: top))
                }
                guard let text = try await detokenizer.append(line.id) else { continue }
                let fresh = filter.update(text)
                if filter.stopped { stopSequenceEnd = detokenizer.ids.count - 1 }
                let delta = CompletionDelta(text: String(decoding: fresh, as: UTF8.self), logprobs: pending)
                pending = []
                if !onDelta(delta) { cancelled = !filter.stopped }
                if cancelled || filter.stopped { halt.store(true, ordering: .relaxed) }
            }
        } catch {
            halt.store(true, ordering: .relaxed)
            _ = await generation.result
            throw Self.map(error)
        }
        let result: GenerateMessage
        do {
            result = try await generation.value
        } catch {
            throw Self.map(error)
        }
        if !filter.stopped, !cancelled {
            let rest = filter.finish(try await mapped { try await detokenizer.text() })
            if !rest.isEmpty || !pending.isEmpty {
                _ = onDelta(CompletionDelta(text: String(decoding: rest, as: UTF8.self), logprobs: pending))
            }
        }
        let tokens = detokenizer.ids
        let finish: FinishReason = filter.stopped ? .stop : (result.finishReason == "length" ? .length : .stop)
        return GeneratedOutput(
            outcome: CompletionOutcome(finishReason: finish, promptTokens: prepared.promptTokens.count, completionTokens: tokens.count,
                                       executor: executor),
            tokens: tokens, stopSequenceEnd: stopSequenceEnd, cancelled: cancelled || result.finishReason == "cancelled")
    }

    public func recompute(model: String, promptTokens: [Int], outputTokens: [Int], sampling: InferenceJob,
                          tapeSeed: Bytes32?) async throws(OpenAIError) -> [RecomputedChoice] {
        let worker = self.worker
        let request = ScoreRequestMessage(
            model: model, promptTokens: promptTokens, completionTokens: outputTokens,
            sampling: SamplingMessage(temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, tapeSeed: tapeSeed?.hex))
        let scored = try await mapped { try await worker.score(request) }
        return try scored.tokens.map { (t) throws(OpenAIError) -> RecomputedChoice in
            guard let choice = t.choice else { throw .internalError("This node's worker does not report tape choices when scoring; it cannot check inferences.") }
            return RecomputedChoice(token: choice.token, margin: choice.margin)
        }
    }

    private func mapped<T>(_ body: () async throws -> T) async throws(OpenAIError) -> T {
        do {
            return try await body()
        } catch {
            throw Self.map(error)
        }
    }

    /// Worker refusals become the matching OpenAI error; anything else (the worker unreachable
    /// or failing) is a 503 the client may retry.
    static func map(_ error: any Error) -> OpenAIError {
        if let error = error as? OpenAIError { return error }
        if let error = error as? WorkerError {
            switch error.status {
            case 400: return .invalid(error.field.map(Self.parameterName), error.message)
            case 404: return OpenAIError(status: 404, message: error.message, type: "invalid_request_error", param: "model",
                                         code: "model_not_found")
            case 429, 503: return .overloaded("The worker is busy (\(error.message)); retry shortly.")
            default: return .internalError("The worker failed: \(error.message)")
            }
        }
        return .overloaded("The worker cannot be reached: \(error)")
    }

    private static func parameterName(_ workerField: String) -> String {
        switch workerField {
        case "prompt_tokens": "messages"
        case "sampling.temperature": "temperature"
        case "sampling.top_k": "top_k"
        case "sampling.top_p": "top_p"
        default: workerField
        }
    }
}

extension InferenceJob.Input {
    var isChat: Bool {
        if case .chat = self { return true }
        return false
    }
}

/// Turns the growing list of generated ids into text. Byte-level BPE decodes a prefix to a
/// prefix of the text, except that a multi-byte character may be split across tokens: the text
/// is released only when it does not end in an incomplete character (U+FFFD).
private struct Detokenizer {
    let worker: any WorkerAPI
    let model: String
    private(set) var ids: [Int] = []
    private var pieces: [Int: String] = [:]

    init(worker: any WorkerAPI, model: String) {
        self.worker = worker
        self.model = model
    }

    /// Appends `id`; returns the whole text when it is complete, nil while a character is split.
    mutating func append(_ id: Int) async throws -> [UInt8]? {
        ids.append(id)
        let text = try await worker.detokenize(DetokenizeRequest(model: model, tokens: ids, skipSpecial: true)).text
        return text.hasSuffix("\u{FFFD}") ? nil : Array(text.utf8)
    }

    func text() async throws -> [UInt8] {
        Array(try await worker.detokenize(DetokenizeRequest(model: model, tokens: ids, skipSpecial: true)).text.utf8)
    }

    /// The token's and its alternatives' text, cached per id (the vocabulary is fixed).
    mutating func logprob(_ line: TokenLineMessage, alternatives: Int) async throws -> TokenLogprob {
        var top: [TokenLogprob.Alternative] = []
        for entry in line.top.prefix(alternatives) {
            top.append(.init(token: try await piece(entry.id), logprob: entry.logprob))
        }
        return TokenLogprob(token: try await piece(line.id), logprob: line.logprob, top: top)
    }

    private mutating func piece(_ id: Int) async throws -> String {
        if let cached = pieces[id] { return cached }
        let text = try await worker.detokenize(DetokenizeRequest(model: model, tokens: [id], skipSpecial: false)).text
        if pieces.count < 4_096 { pieces[id] = text }
        return text
    }
}
