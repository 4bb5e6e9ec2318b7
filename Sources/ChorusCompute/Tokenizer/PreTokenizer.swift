/// Splits text into the pieces BPE runs on, by hand (no regex engine), following the GPT-2 pattern
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// over Unicode scalars (letters = categories L*, numbers = N*, whitespace = White_Space), with
/// case-sensitive contractions as in GPT-2 and llama.cpp. `.gpt2DigitsSplit` (SmolLM2, StarCoder)
/// first isolates every number character, then applies the pattern to the pieces in between —
/// what both llama.cpp (`\p{N}` then GPT-2) and Hugging Face (Digits(individual) then ByteLevel)
/// do for these models.
public enum PreTokenizer: Sendable, Equatable {
    case gpt2
    case gpt2DigitsSplit

    /// The pre-tokenizer named by GGUF `tokenizer.ggml.pre`, or nil when unsupported.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt-2", "gpt2": self = .gpt2
        case "smollm", "starcoder", "refact": self = .gpt2DigitsSplit
        default: return nil
        }
    }

    /// The pieces of `text`, in order; their concatenation is `text`.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [Range<Int>] = []
        switch self {
        case .gpt2:
            PreTokenizer.gpt2Split(scalars, 0..<scalars.count, into: &pieces)
        case .gpt2DigitsSplit:
            var start = 0
            for i in scalars.indices where Self.isNumber(scalars[i]) {
                PreTokenizer.gpt2Split(scalars, start..<i, into: &pieces)
                pieces.append(i..<(i + 1))
                start = i + 1
            }
            PreTokenizer.gpt2Split(scalars, start..<scalars.count, into: &pieces)
        }
        return pieces.map { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    /// The GPT-2 pattern over `scalars[range]`, appending match ranges (the pattern matches every
    /// character, so the ranges tile `range`).
    static func gpt2Split(_ x: [Unicode.Scalar], _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        func run(from start: Int, while accept: (Unicode.Scalar) -> Bool) -> Int {
            var j = start
            while j < end && accept(x[j]) { j += 1 }
            return j
        }
        while i < end {
            let c = x[i]
            // 's 't 'm 'd 're 've 'll
            if c == "'" && i + 1 < end {
                let n = x[i + 1]
                if n == "s" || n == "t" || n == "m" || n == "d" {
                    pieces.append(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < end {
                    let nn = x[i + 2]
                    if (n == "r" && nn == "e") || (n == "v" && nn == "e") || (n == "l" && nn == "l") {
                        pieces.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // An optional single U+0020 before a letter, number or symbol run.
            let body = (c == " " && i + 1 < end) ? i + 1 : i
            let b = x[body]
            if !(c == " " && body == i) {
                var j = body
                if isLetter(b) {
                    j = run(from: body, while: isLetter)
                } else if isNumber(b) {
                    j = run(from: body, while: isNumber)
                } else if !isSpace(b) {
                    j = run(from: body) { !isSpace($0) && !isLetter($0) && !isNumber($0) }
                }
                if j > body {
                    pieces.append(i..<j); i = j; continue
                }
            }
            // \s+(?!\S) then \s+ : a whitespace run, leaving its last character to the next
            // piece when a non-space follows and the run is longer than one.
            let j = run(from: i, while: isSpace)
            if j > i {
                let stop = (j < end && j - i > 1) ? j - 1 : j
                pieces.append(i..<stop); i = stop; continue
            }
            // Unreachable for well-formed input (every scalar is a space, letter, number or
            // other), kept so that the loop always advances.
            pieces.append(i..<(i + 1)); i += 1
        }
    }
}
