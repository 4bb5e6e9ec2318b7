/// Why a GGUF file could not be read. Every case names the file and the field or tensor at fault,
/// so an operator can tell a truncated download from an unsupported model.
public struct GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The file could not be opened or mapped (`reason` comes from the OS).
        case cannotOpen(reason: String)
        /// The file ended while reading `field`, which needed `needed` bytes at `offset`.
        case truncated(field: String, offset: Int, needed: Int)
        /// The first four bytes are not "GGUF".
        case badMagic(found: [UInt8])
        /// Only GGUF versions 2 and 3 are read.
        case unsupportedVersion(UInt32)
        /// A metadata value type id that the format does not define.
        case invalidValueType(key: String, rawType: UInt32)
        /// A string that is not valid UTF-8.
        case invalidString(field: String)
        /// Arrays nested deeper than the reader allows (16 levels; real files use 1).
        case arrayNestingTooDeep(key: String)
        /// The same metadata key or tensor name twice.
        case duplicate(name: String)
        /// `general.alignment` must be a non-zero power of two.
        case invalidAlignment(UInt64)
        /// A tensor uses a ggml type this reader cannot dequantize.
        case unsupportedTensorType(tensor: String, type: String)
        /// A tensor's description is inconsistent (`reason` says how).
        case invalidTensorInfo(tensor: String, reason: String)
        /// A tensor's bytes lie (partly) outside the file.
        case tensorOutOfBounds(tensor: String, start: Int, byteCount: Int, fileSize: Int)
        /// A metadata key the model needs is absent.
        case missingMetadata(key: String)
        /// A metadata key holds a value of the wrong type or out of range.
        case invalidMetadata(key: String, expected: String, found: String)
        /// A tensor the model needs is absent.
        case missingTensor(name: String)
        /// A tensor has a shape other than the model configuration implies (dimensions in ggml order,
        /// innermost first).
        case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    }

    /// The path of the file (or a label for an in-memory buffer).
    public var file: String
    public var kind: Kind

    public init(file: String, _ kind: Kind) {
        self.file = file
        self.kind = kind
    }

    public var description: String {
        let what: String
        switch kind {
        case let .cannotOpen(reason):
            what = "cannot open (\(reason)); check the path and permissions"
        case let .truncated(field, offset, needed):
            what = "truncated: \(field) needs \(needed) bytes at offset \(offset); the download is incomplete, fetch it again"
        case let .badMagic(found):
            what = "not a GGUF file (magic \(found.map { String($0, radix: 16) }), expected 47 47 55 46 \"GGUF\")"
        case let .unsupportedVersion(v):
            what = "GGUF version \(v) is not supported (only 2 and 3); convert the model with a current llama.cpp"
        case let .invalidValueType(key, raw):
            what = "metadata key '\(key)' has unknown value type \(raw); the file is corrupt"
        case let .invalidString(field):
            what = "\(field) is not valid UTF-8; the file is corrupt"
        case let .arrayNestingTooDeep(key):
            what = "metadata key '\(key)' nests arrays more than 16 deep; the file is corrupt"
        case let .duplicate(name):
            what = "'\(name)' appears twice; the file is corrupt"
        case let .invalidAlignment(a):
            what = "general.alignment = \(a) is not a non-zero power of two"
        case let .unsupportedTensorType(tensor, type):
            what = "tensor '\(tensor)' has type \(type); only F32, F16, BF16, Q4_0, Q4_1 and Q8_0 are supported, use a model quantized to one of those"
        case let .invalidTensorInfo(tensor, reason):
            what = "tensor '\(tensor)': \(reason)"
        case let .tensorOutOfBounds(tensor, start, count, size):
            what = "tensor '\(tensor)' data [\(start), +\(count)) lies outside the file (\(size) bytes); the file is truncated or corrupt"
        case let .missingMetadata(key):
            what = "required metadata key '\(key)' is missing; this is not a supported Llama-family model"
        case let .invalidMetadata(key, expected, found):
            what = "metadata key '\(key)' should be \(expected), found \(found)"
        case let .missingTensor(name):
            what = "required tensor '\(name)' is missing"
        case let .shapeMismatch(tensor, expected, found):
            what = "tensor '\(tensor)' has shape \(found), expected \(expected) from the model metadata"
        }
        return "GGUF file '\(file)': \(what)"
    }
}
