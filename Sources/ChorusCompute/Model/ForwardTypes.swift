/// What a sequence feeds into the model: token ids (looked up in `token_embd`), or input
/// embeddings supplied directly, row-major `[rows × hiddenSize]` (the PoC kernel's random inputs).
public enum ForwardInput: Sendable {
    case tokens([Int])
    case embeddings([Float])
}

/// Which of a sequence's new rows (the positions fed in this call) an output is wanted for.
public enum RowSelection: Sendable, Equatable {
    case none
    /// The last new row: next-token logits, or the PoC's last-position state.
    case last
    case all
    /// New rows `range` (0 = the first row fed in this call), e.g. the completion part when scoring.
    case rows(Range<Int>)

    func resolve(rowCount n: Int, sequence: Int) throws(ComputeError) -> Range<Int> {
        switch self {
        case .none: return 0..<0
        case .last: return (n - 1)..<n
        case .all: return 0..<n
        case let .rows(r):
            guard r.lowerBound >= 0, r.upperBound <= n else {
                throw .rowSelectionOutOfRange(sequence: sequence, requested: "\(r)", rows: n)
            }
            return r
        }
    }
}

/// One sequence of a batched forward pass.
public struct ForwardSequence {
    public var input: ForwardInput
    /// With a cache the new rows continue at position `cache.count` and their keys/values are
    /// appended; without one the rows are positions 0..<n and nothing is kept.
    public var cache: KVCache?
    /// Rows to compute logits for.
    public var logits: RowSelection
    /// Rows to return the final hidden state for (after the output RMSNorm, before the output
    /// projection).
    public var hidden: RowSelection

    public init(input: ForwardInput, cache: KVCache? = nil, logits: RowSelection = .last, hidden: RowSelection = .none) {
        self.input = input
        self.cache = cache
        self.logits = logits
        self.hidden = hidden
    }

    public init(tokens: [Int], cache: KVCache? = nil, logits: RowSelection = .last, hidden: RowSelection = .none) {
        self.init(input: .tokens(tokens), cache: cache, logits: logits, hidden: hidden)
    }
}

/// A row-major fp32 matrix returned by the engine.
public struct FloatMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "FloatMatrix values must be rows × columns")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(row: Int) -> ArraySlice<Float> {
        values[(row * columns)..<((row + 1) * columns)]
    }
}

/// Per input sequence (same order): the selected logits rows and hidden-state rows.
public struct ForwardOutput: Sendable {
    public var logits: [FloatMatrix]
    public var hidden: [FloatMatrix]
}

/// A view of the residual stream of a whole batch, `[rows × width]`, handed to hooks.
///
/// Valid only during the hook call: the memory belongs to the forward pass. Hooks may read and
/// overwrite it in place (e.g. the PoC's Householder reflection after every layer).
public struct HiddenStates {
    /// Hidden size.
    public let width: Int
    /// Rows of each input sequence, in input order (sequence s is rows `sequenceRows[s]`).
    public let sequenceRows: [Range<Int>]
    /// Absolute position of each sequence's first row (its cache length before this call).
    public let startPositions: [Int]
    /// Invariant: addresses `rowCount × width` floats owned by the running forward pass, which
    /// outlives every hook call that receives this view.
    public let base: UnsafeMutablePointer<Float>

    public var rowCount: Int { sequenceRows.last?.upperBound ?? 0 }

    /// Row `row` of the batch (0..<rowCount).
    public func row(_ row: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(row >= 0 && row < rowCount, "row out of range")
        return UnsafeMutableBufferPointer(start: base + row * width, count: width)
    }

    /// All rows of sequence `s`, contiguous, `[sequenceRows[s].count × width]`.
    public func rows(ofSequence s: Int) -> UnsafeMutableBufferPointer<Float> {
        let r = sequenceRows[s]
        return UnsafeMutableBufferPointer(start: base + r.lowerBound * width, count: r.count * width)
    }
}

/// Callbacks into the forward pass. They run synchronously on the thread doing the forward pass.
public struct ForwardHooks {
    /// After transformer block `layer` (0-based) has added its output to the residual stream.
    public var afterLayer: ((_ layer: Int, _ hidden: HiddenStates) -> Void)?
    /// After the last block, before the output RMSNorm.
    public var beforeFinalNorm: ((_ hidden: HiddenStates) -> Void)?

    public init(afterLayer: ((_ layer: Int, _ hidden: HiddenStates) -> Void)? = nil,
                beforeFinalNorm: ((_ hidden: HiddenStates) -> Void)? = nil) {
        self.afterLayer = afterLayer
        self.beforeFinalNorm = beforeFinalNorm
    }
}
