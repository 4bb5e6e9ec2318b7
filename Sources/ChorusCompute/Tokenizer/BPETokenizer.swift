/// A byte-level BPE tokenizer (GPT-2 family, SmolLM2) built from a model's own vocabulary, so token
/// ids always agree with the model.
///
/// Encoding: special tokens (GGUF types control and user-defined) are matched literally in the
/// text first (longest first, leftmost); every other stretch is split by the pre-tokenizer, each
/// piece is spelled in GPT-2's byte alphabet and merged by BPE — repeatedly the adjacent pair with
/// the lowest merge rank, all its non-overlapping occurrences left to right — into vocabulary ids.
///
/// Immutable after `init`, hence `Sendable`.
public final class BPETokenizer: Sendable {
    /// GGUF token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let tokens: [String]
    public let tokenTypes: [TokenType]
    public let bosID: Int?
    public let eosID: Int?
    /// Whether the model expects a BOS token before a prompt (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool
    public let preTokenizer: PreTokenizer

    private let idOfToken: [String: Int]
    /// (left id << 32 | right id) → (rank, merged id).
    private let merges: [UInt64: (rank: Int, merged: Int)]
    /// The id of each single byte's spelling.
    private let byteIDs: [Int?]
    /// Special tokens as UTF-8, longest first.
    private let specials: [(bytes: [UInt8], id: Int)]

    public var vocabularySize: Int { tokens.count }

    /// Builds a tokenizer from explicit vocabulary data. `merges` are "left right" strings in rank
    /// order (the GGUF form); `types` defaults to all normal.
    public init(tokens: [String], types: [TokenType]? = nil, merges: [String], bosID: Int?, eosID: Int?,
                addsBOS: Bool = false, preTokenizer: PreTokenizer) throws(TokenizerError) {
        let types = types ?? [TokenType](repeating: .normal, count: tokens.count)
        guard types.count == tokens.count else {
            throw .inconsistentVocabulary(reason: "\(tokens.count) tokens but \(types.count) token types")
        }
        for (name, id) in [("BOS", bosID), ("EOS", eosID)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw .inconsistentVocabulary(reason: "\(name) id \(id) outside the vocabulary of \(tokens.count)")
            }
        }
        var index: [String: Int] = [:]
        index.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where index[t] == nil { index[t] = i }
        var table: [UInt64: (rank: Int, merged: Int)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            guard let space = m.firstIndex(of: " ") else {
                throw .inconsistentVocabulary(reason: "merge #\(rank) '\(m)' has no separating space")
            }
            let left = String(m[..<space]), right = String(m[m.index(after: space)...])
            // A merge whose parts or result are not tokens can never apply; skip it.
            guard let l = index[left], let r = index[right], let merged = index[left + right] else { continue }
            let key = UInt64(l) << 32 | UInt64(r)
            if table[key] == nil { table[key] = (rank, merged) }
        }
        self.tokens = tokens
        tokenTypes = types
        self.bosID = bosID
        self.eosID = eosID
        self.addsBOS = addsBOS
        self.preTokenizer = preTokenizer
        idOfToken = index
        self.merges = table
        byteIDs = (0..<256).map { index[String(ByteLevel.byteToScalar[$0])] }
        specials = types.indices
            .filter { (types[$0] == .control || types[$0] == .userDefined) && !tokens[$0].isEmpty }
            .map { (Array(tokens[$0].utf8), $0) }
            .sorted { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
    }

    /// Reads `tokenizer.ggml.*` from a GGUF file. A missing `tokenizer.ggml.pre` means the plain
    /// GPT-2 pattern; missing token types mean all normal; missing merges mean none.
    public convenience init(gguf file: GGUFFile) throws(TokenizerError) {
        do {
            let model = try file.requiredString("tokenizer.ggml.model")
            guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model) }
            let preName = file.metadata["tokenizer.ggml.pre"]?.stringValue ?? "gpt-2"
            guard let pre = PreTokenizer(ggufName: preName) else { throw TokenizerError.unsupportedPreTokenizer(preName) }
            let tokens = try file.requiredStringArray("tokenizer.ggml.tokens")
            var types: [TokenType]? = nil
            if file.metadata["tokenizer.ggml.token_type"] != nil {
                types = try file.requiredIntArray("tokenizer.ggml.token_type").map { TokenType(rawValue: $0) ?? .normal }
            }
            let merges = file.metadata["tokenizer.ggml.merges"] == nil ? [] : try file.requiredStringArray("tokenizer.ggml.merges")
            try self.init(tokens: tokens, types: types, merges: merges,
                          bosID: try file.optionalInt("tokenizer.ggml.bos_token_id"),
                          eosID: try file.optionalInt("tokenizer.ggml.eos_token_id"),
                          addsBOS: try file.optionalBool("tokenizer.ggml.add_bos_token") ?? false,
                          preTokenizer: pre)
        } catch let e as GGUFError {
            throw .metadata(e)
        } catch let e as TokenizerError {
            throw e
        } catch {
            throw .inconsistentVocabulary(reason: "\(error)")
        }
    }

    /// A plain byte-level vocabulary: token i is byte i (no merges, no specials) — the tokenizer of
    /// the synthetic models. `eosID` marks one byte as end-of-sequence for generation tests.
    public static func byteLevel(eosID: Int? = nil) -> BPETokenizer {
        // Cannot fail: 256 distinct tokens, ids in range, no merges.
        try! BPETokenizer(tokens: (0..<256).map { String(ByteLevel.byteToScalar[$0]) }, merges: [],
                          bosID: nil, eosID: eosID, preTokenizer: .gpt2)
    }

    public func id(of token: String) -> Int? { idOfToken[token] }

    public func isSpecial(_ id: Int) -> Bool {
        id >= 0 && id < tokens.count && (tokenTypes[id] == .control || tokenTypes[id] == .userDefined)
    }

    // MARK: - Encoding

    /// Token ids for `text`. `addBOS` nil follows the model (`addsBOS`); with `parseSpecial` false,
    /// special-token spellings in the text are tokenized as ordinary text.
    public func encode(_ text: String, addBOS: Bool? = nil, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addBOS ?? addsBOS, let bos = bosID { out.append(bos) }
        let bytes = Array(text.utf8)
        var start = 0, i = 0
        if parseSpecial && !specials.isEmpty {
            while i < bytes.count {
                if let special = specials.first(where: { matches($0.bytes, in: bytes, at: i) }) {
                    encodeText(bytes[start..<i], into: &out)
                    out.append(special.id)
                    i += special.bytes.count
                    start = i
                } else {
                    i += 1
                }
            }
        }
        encodeText(bytes[start..<bytes.count], into: &out)
        return out
    }

    private func matches(_ needle: [UInt8], in haystack: [UInt8], at i: Int) -> Bool {
        guard i + needle.count <= haystack.count else { return false }
        for k in needle.indices where haystack[i + k] != needle[k] { return false }
        return true
    }

    /// Ordinary text (split at special tokens, so always whole UTF-8 sequences).
    private func encodeText(_ bytes: ArraySlice<UInt8>, into out: inout [Int]) {
        guard !bytes.isEmpty else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        for piece in preTokenizer.split(text) {
            bpe(Array(piece.utf8), into: &out)
        }
    }

    private func bpe(_ piece: [UInt8], into out: inout [Int]) {
        var symbols: [Int] = []
        symbols.reserveCapacity(piece.count)
        for b in piece {
            // A vocabulary without a byte's spelling cannot encode it; it is dropped (well-formed
            // byte-level vocabularies contain all 256).
            if let id = byteIDs[Int(b)] { symbols.append(id) }
        }
        while symbols.count > 1 {
            var best: (rank: Int, merged: Int, left: Int, right: Int)? = nil
            for k in 0..<(symbols.count - 1) {
                let key = UInt64(symbols[k]) << 32 | UInt64(symbols[k + 1])
                if let m = merges[key], m.rank < (best?.rank ?? Int.max) {
                    best = (m.rank, m.merged, symbols[k], symbols[k + 1])
                }
            }
            guard let merge = best else { break }
            var next: [Int] = []
            next.reserveCapacity(symbols.count)
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count && symbols[k] == merge.left && symbols[k + 1] == merge.right {
                    next.append(merge.merged)
                    k += 2
                } else {
                    next.append(symbols[k])
                    k += 1
                }
            }
            symbols = next
        }
        out += symbols
    }

    // MARK: - Decoding

    /// The bytes token `id` stands for. Control tokens give their text only with `renderSpecial`;
    /// ids outside the vocabulary give nothing.
    public func bytes(of id: Int, renderSpecial: Bool = false) -> [UInt8] {
        guard id >= 0 && id < tokens.count else { return [] }
        switch tokenTypes[id] {
        case .control: return renderSpecial ? Array(tokens[id].utf8) : []
        case .userDefined: return Array(tokens[id].utf8)
        case .unused: return []
        case .normal, .unknown, .byte: return ByteLevel.decode(tokens[id])
        }
    }

    /// The text of `ids` (invalid UTF-8, e.g. a character cut between tokens, becomes U+FFFD).
    public func decode(_ ids: [Int], renderSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes += self.bytes(of: id, renderSpecial: renderSpecial) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
