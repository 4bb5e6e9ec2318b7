public import ChorusCrypto
public import ChorusWire

/// The canonical inference request (Specs/inference.md §1): exactly what the model computes, in
/// token ids after the chat template, with the sampling parameters as integers. Its digest is what
/// the gateway's ticket, the executor's receipt and the validator's re-run all name, so the three
/// cannot disagree about the computation without the mismatch showing.
public struct InferenceRequest: Sendable, Hashable, WireCodable {
    public static let version: UInt8 = 1
    /// Prompt ids held at most: above any context the network approves, and a bound on what a
    /// gateway can make executors and validators store.
    public static let maxPromptTokens = 131_072
    /// Output tokens at most: the exact flip test (§6) stays within `BinomialTest`'s range.
    public static let maxOutputTokens: UInt32 = 8_192
    public static let maxTemperatureMillionths: UInt32 = 2_000_000
    public static let maxTopK: UInt32 = 1 << 20
    public static let maxStopTokens = 16
    public static let maxStopSequences = 16
    public static let maxStopSequenceBytes = 256

    public let model: String
    /// Ids after the chat template; 1 … `maxPromptTokens`.
    public let promptTokens: [UInt32]
    /// 1 … `maxOutputTokens`.
    public let maxTokens: UInt32
    /// Millionths: 0 (greedy) … 2,000,000.
    public let temperatureMillionths: UInt32
    /// 0 = off.
    public let topK: UInt32
    /// Millionths in 1 … 1,000,000 (1,000,000 = off).
    public let topPMillionths: UInt32
    /// A set: strictly ascending.
    public let stopTokens: [UInt32]
    /// A set of non-empty UTF-8 strings, strictly ascending by their bytes.
    public let stopSequences: [String]

    public init(
        model: String, promptTokens: [UInt32], maxTokens: UInt32, temperatureMillionths: UInt32 = 0, topK: UInt32 = 0,
        topPMillionths: UInt32 = 1_000_000, stopTokens: [UInt32] = [], stopSequences: [String] = []
    ) throws(ProtocolError) {
        self.model = model
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.temperatureMillionths = temperatureMillionths
        self.topK = topK
        self.topPMillionths = topPMillionths
        self.stopTokens = stopTokens
        self.stopSequences = stopSequences
        if let (field, reason) = problem { throw .invalidParameter(key: "inference-request.\(field)", expected: reason, found: "\(self[field])") }
    }

    /// The first broken rule as (field, what it must be), or nil.
    var problem: (String, String)? {
        if model.isEmpty || model.utf8.count > ModelParameters.maxIDLength { return ("model", "1 to \(ModelParameters.maxIDLength) bytes") }
        if promptTokens.isEmpty || promptTokens.count > Self.maxPromptTokens { return ("prompt_tokens", "1 to \(Self.maxPromptTokens) ids") }
        if maxTokens < 1 || maxTokens > Self.maxOutputTokens { return ("max_tokens", "1 to \(Self.maxOutputTokens)") }
        if temperatureMillionths > Self.maxTemperatureMillionths { return ("temperature", "0 to \(Self.maxTemperatureMillionths) millionths") }
        if topK > Self.maxTopK { return ("top_k", "0 to \(Self.maxTopK)") }
        if topPMillionths < 1 || topPMillionths > 1_000_000 { return ("top_p", "1 to 1000000 millionths") }
        if stopTokens.count > Self.maxStopTokens { return ("stop_tokens", "at most \(Self.maxStopTokens)") }
        if zip(stopTokens, stopTokens.dropFirst()).contains(where: { $0 >= $1 }) { return ("stop_tokens", "strictly ascending") }
        if stopSequences.count > Self.maxStopSequences { return ("stop_sequences", "at most \(Self.maxStopSequences)") }
        if stopSequences.contains(where: { $0.isEmpty || $0.utf8.count > Self.maxStopSequenceBytes }) {
            return ("stop_sequences", "1 to \(Self.maxStopSequenceBytes) bytes each")
        }
        let bytes = stopSequences.map { Array($0.utf8) }
        if zip(bytes, bytes.dropFirst()).contains(where: { !$0.lexicographicallyPrecedes($1) }) {
            return ("stop_sequences", "strictly ascending by bytes")
        }
        return nil
    }

    private subscript(field: String) -> String {
        switch field {
        case "model": "\(model.utf8.count) bytes"
        case "prompt_tokens": "\(promptTokens.count) ids"
        case "max_tokens": "\(maxTokens)"
        case "temperature": "\(temperatureMillionths)"
        case "top_k": "\(topK)"
        case "top_p": "\(topPMillionths)"
        case "stop_tokens": "\(stopTokens)"
        default: "\(stopSequences.map { $0.utf8.count }) bytes"
        }
    }

    /// Greedy requests use no tape (§4).
    public var isGreedy: Bool { temperatureMillionths == 0 || topK == 1 }

    /// The parameters as the tape applies them.
    public var sampling: TapeSampling {
        isGreedy ? .greedy : TapeSampling(temperatureMillionths: temperatureMillionths, topK: topK, topPMillionths: topPMillionths)
    }

    /// `H("chorus/inference/request/1\0" ‖ encoding)`.
    public var digest: Bytes32 { Blake2b.hash256(Array("chorus/inference/request/1\0".utf8) + encodedBytes()) }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeString(model)
        writer.writeArray(promptTokens) { $0.writeU32($1) }
        writer.writeU32(maxTokens)
        writer.writeU32(temperatureMillionths)
        writer.writeU32(topK)
        writer.writeU32(topPMillionths)
        writer.writeArray(stopTokens) { $0.writeU32($1) }
        writer.writeArray(stopSequences) { $0.writeString($1) }
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "inference-request.version")
        guard version == Self.version else {
            throw .unknownVersion(what: "inference-request", version: Int(version), highestKnown: Int(Self.version))
        }
        model = try reader.readString(field: "inference-request.model", maxLength: ModelParameters.maxIDLength)
        promptTokens = try reader.readArray(field: "inference-request.prompt_tokens", maxCount: Self.maxPromptTokens, minElementSize: 4) {
            (r: inout WireReader) throws(WireError) in try r.readU32(field: "inference-request.prompt_tokens")
        }
        maxTokens = try reader.readU32(field: "inference-request.max_tokens")
        temperatureMillionths = try reader.readU32(field: "inference-request.temperature")
        topK = try reader.readU32(field: "inference-request.top_k")
        topPMillionths = try reader.readU32(field: "inference-request.top_p")
        stopTokens = try reader.readArray(field: "inference-request.stop_tokens", maxCount: Self.maxStopTokens, minElementSize: 4) {
            (r: inout WireReader) throws(WireError) in try r.readU32(field: "inference-request.stop_tokens")
        }
        stopSequences = try reader.readArray(field: "inference-request.stop_sequences", maxCount: Self.maxStopSequences, minElementSize: 4) {
            (r: inout WireReader) throws(WireError) in
            try r.readString(field: "inference-request.stop_sequences", maxLength: Self.maxStopSequenceBytes)
        }
        if let (field, reason) = problem { throw .invalidValue(field: "inference-request.\(field)", reason: "must be \(reason)") }
    }
}
