/// Why a tokenizer or chat template could not be built.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The GGUF metadata was missing or malformed.
    case metadata(GGUFError)
    /// `tokenizer.ggml.model` names a tokenizer other than byte-level BPE ("gpt2").
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this engine does not implement.
    case unsupportedPreTokenizer(String)
    /// Vocabulary arrays that do not fit together (`reason` says how).
    case inconsistentVocabulary(reason: String)
    /// The chat template is not one this engine can render.
    case unsupportedChatTemplate(reason: String)

    public var description: String {
        switch self {
        case let .metadata(e):
            "tokenizer: \(e)"
        case let .unsupportedModel(m):
            "tokenizer model '\(m)' is not supported (only byte-level BPE, tokenizer.ggml.model = gpt2)"
        case let .unsupportedPreTokenizer(p):
            "pre-tokenizer '\(p)' is not supported (supported: gpt-2, smollm, starcoder, refact)"
        case let .inconsistentVocabulary(reason):
            "tokenizer vocabulary is inconsistent: \(reason)"
        case let .unsupportedChatTemplate(reason):
            "chat template not supported: \(reason); only ChatML templates (<|im_start|>role\\ncontent<|im_end|>) can be rendered"
        }
    }
}
