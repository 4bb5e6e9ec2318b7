public import ChorusWorkerAPI

/// Why a model could not be loaded into the registry.
public enum ModelLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    case gguf(GGUFError)
    case tokenizer(TokenizerError)
    /// A model with this id is already resident; unload it first.
    case alreadyLoaded(id: String)

    public var description: String {
        switch self {
        case let .gguf(e): "\(e)"
        case let .tokenizer(e): "\(e)"
        case let .alreadyLoaded(id): "a model with id '\(id)' is already loaded; unload it first or use another id"
        }
    }
}

/// The text and tokens of a chat completion.
public struct ChatResult: Sendable, Equatable {
    /// The completion text, without the stop token.
    public var text: String
    public var generation: GenerationResult
}

/// A model kept in memory with everything needed to serve it: its weights (matrices in their
/// stored block format, Specs/worker.md §11.1), the tokenizer and the
/// chat template from its file. PoC passes (embeddings + hooks), generation and scoring all run
/// on the same loaded weights, so they can interleave without reloading.
///
/// Thread safety: immutable after `init` and `Sendable`; every method may be called from any
/// thread at any time. Forward passes are serialised process-wide inside `LlamaModel.forward`
/// (each already uses every core), so concurrent callers simply take turns pass by pass.
public final class ResidentModel: Sendable {
    public let id: String
    public let model: LlamaModel
    /// Nil for models without a tokenizer (synthetic PoC models fed with embeddings or ids).
    public let tokenizer: BPETokenizer?
    /// Why the model's chat template cannot be rendered, if it cannot.
    public let chatTemplate: Result<ChatTemplate, TokenizerError>
    /// Where the weights came from: the GGUF path, or `synthetic:<seed hex>`.
    public let source: String

    /// Loads a GGUF file: configuration, weights (blocks repacked once; the file is not kept
    /// mapped), tokenizer, chat template.
    public init(id: String, path: String) throws(ModelLoadError) {
        let file: GGUFFile
        do {
            file = try GGUFFile(path: path)
            model = try LlamaModel(gguf: file)
        } catch {
            throw .gguf(error)
        }
        if file.metadata["tokenizer.ggml.model"] != nil {
            do { tokenizer = try BPETokenizer(gguf: file) } catch { throw .tokenizer(error) }
        } else {
            tokenizer = nil
        }
        if let source = file.metadata["tokenizer.chat_template"]?.stringValue {
            chatTemplate = Result { () throws(TokenizerError) in try ChatTemplate(jinja: source) }
        } else {
            chatTemplate = .failure(.unsupportedChatTemplate(reason: "the model file has no tokenizer.chat_template"))
        }
        self.id = id
        self.source = path
    }

    /// A synthetic model (byte-level tokenizer, no chat template).
    public init(id: String, synthetic: SyntheticModel) throws(ModelLoadError) {
        do { model = try synthetic.build() } catch { throw .gguf(error) }
        tokenizer = synthetic.config.vocabularySize == 256 ? BPETokenizer.byteLevel() : nil
        chatTemplate = .failure(.unsupportedChatTemplate(reason: "synthetic models have no chat template"))
        self.id = id
        source = "synthetic:\(synthetic.seed.hex)"
    }

    /// The prompt text for `messages` under the model's chat template.
    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws(TokenizerError) -> String {
        try chatTemplate.get().render(messages, addGenerationPrompt: addGenerationPrompt)
    }

    /// Renders, tokenizes and continues a conversation, stopping at the model's EOS token.
    /// Throws `ComputeError` (bad request, context overflow) or `TokenizerError` (no usable template).
    public func chat(_ messages: [ChatMessage], maxTokens: Int, sampling: SamplingParameters = .greedy,
                     topLogprobs: Int = 0,
                     onToken: (GeneratedToken) -> Bool = { _ in true }) throws -> ChatResult {
        guard let tokenizer else {
            throw ComputeError.invalidRequest(reason: "model '\(id)' has no tokenizer; send token ids")
        }
        let prompt = tokenizer.encode(try renderChat(messages))
        let stop: Set<Int> = tokenizer.eosID.map { [$0] } ?? []
        let result = try model.generate([GenerationRequest(promptTokens: prompt, maxTokens: maxTokens, sampling: sampling,
                                                           stopTokens: stop, topLogprobs: topLogprobs)]) { _, t in onToken(t) }[0]
        let textTokens = result.finishReason == .stop ? result.tokens.dropLast() : result.tokens[...]
        return ChatResult(text: tokenizer.decode(textTokens.map(\.token)), generation: result)
    }
}
