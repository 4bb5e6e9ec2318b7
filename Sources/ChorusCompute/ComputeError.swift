/// Errors from running a model (as opposed to loading one, which throws `GGUFError`). Each says
/// what was wrong with the request and what the caller can change.
public enum ComputeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A token id outside `0..<vocabularySize`.
    case unknownToken(id: Int, vocabularySize: Int)
    /// The sequence would exceed the context it may use (the model's context length, or the KV
    /// cache's capacity).
    case contextOverflow(needed: Int, capacity: Int)
    /// Input embeddings whose length is not a multiple of the hidden size.
    case embeddingShape(count: Int, hiddenSize: Int)
    /// A sequence with no new tokens.
    case emptySequence(index: Int)
    /// A requested row range outside the sequence's new tokens.
    case rowSelectionOutOfRange(sequence: Int, requested: String, rows: Int)
    /// A KV cache built for another model shape, or passed twice in one batch.
    case cacheMismatch(reason: String)
    /// Sampling parameters out of range.
    case invalidSampling(reason: String)
    /// A request that makes no sense as a whole (empty completion to score, no sequences, …).
    case invalidRequest(reason: String)
    /// A model id the registry does not hold.
    case unknownModel(id: String)

    public var description: String {
        switch self {
        case let .unknownToken(id, vocab):
            "token id \(id) is outside the vocabulary (0..<\(vocab)); tokenize with this model's tokenizer"
        case let .contextOverflow(needed, capacity):
            "sequence needs \(needed) positions but only \(capacity) are available; shorten the prompt or lower max_tokens"
        case let .embeddingShape(count, hidden):
            "input embeddings have \(count) values, not a multiple of the hidden size \(hidden)"
        case let .emptySequence(index):
            "sequence \(index) has no input tokens"
        case let .rowSelectionOutOfRange(sequence, requested, rows):
            "sequence \(sequence): requested output rows \(requested) but it has \(rows) new rows"
        case let .cacheMismatch(reason):
            "KV cache cannot be used: \(reason)"
        case let .invalidSampling(reason):
            "invalid sampling parameters: \(reason)"
        case let .invalidRequest(reason):
            "invalid request: \(reason)"
        case let .unknownModel(id):
            "no resident model with id '\(id)'; load it first"
        }
    }
}
