public import ChorusCrypto
public import ChorusInference
public import ChorusProtocol
import ChorusWire
import ChorusWorkerAPI

/// The session messages of inference routing, tag 5 (Specs/inference-routing.md §4): a gateway
/// asks an executor to run a job; the executor answers with the job's canonical request (its
/// prompt tokenized); the gateway signs a ticket over it; the executor streams text generated from
/// the tape the ticket seeds and ends with its signed receipt and the output ids, or an error.
/// Either side may cancel. Every message names the request by the gateway's 32-byte routing id.
public enum InferenceMessage: Sendable, Equatable {
    case request(id: Bytes32, job: InferenceJob)
    case prepared(id: Bytes32, InferenceRequest)
    case ticket(id: Bytes32, InferenceTicket, signature: Ed25519.Signature)
    case delta(id: Bytes32, CompletionDelta)
    /// `finish` is OpenAI's reason (a stop token and a stop sequence are both `stop`); the receipt
    /// binds the ids; `stopSequenceEnd` is the index of the output id that completed a stop sequence.
    case end(id: Bytes32, finish: ChorusInference.FinishReason, receipt: SignedInferenceReceipt, output: [UInt32], stopSequenceEnd: UInt32?)
    case error(id: Bytes32, OpenAIError)
    case cancel(id: Bytes32)
    /// A gateway tells a member of the model's group about an inference it checked: the request,
    /// ticket, receipt and output ids, so the member can decide to re-run it (inference.md §6).
    /// The id is the receipt's.
    case announce(id: Bytes32, InferenceRecord)

    public static let version: UInt8 = 2

    /// Bounds a decoder enforces (a peer's message never allocates more).
    static let maxModelID = 128
    static let maxRole = 16
    static let maxTextBytes = 4 << 20
    static let maxToken = 1_024
    static let maxLogprobsPerDelta = 4_096
    static let maxErrorText = 4_096

    public var id: Bytes32 {
        switch self {
        case let .request(id, _): id
        case let .prepared(id, _): id
        case let .ticket(id, _, _): id
        case let .delta(id, _): id
        case let .end(id, _, _, _, _): id
        case let .error(id, _): id
        case let .cancel(id): id
        case let .announce(id, _): id
        }
    }

    private var kind: UInt8 {
        switch self {
        case .request: 1
        case .delta: 2
        case .end: 3
        case .error: 4
        case .cancel: 5
        case .prepared: 6
        case .ticket: 7
        case .announce: 8
        }
    }

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.writeU8(Self.version)
        w.writeU8(kind)
        w.writeBytes32(id)
        switch self {
        case let .request(_, job):
            w.writeString(job.model)
            switch job.input {
            case let .chat(messages):
                w.writeU8(0)
                w.writeArray(messages) { w, m in
                    w.writeString(m.role)
                    w.writeString(m.content)
                }
            case let .text(text):
                w.writeU8(1)
                w.writeString(text)
            }
            w.writeU32(UInt32(job.maxTokens ?? 0))
            w.writeU64(job.temperature.bitPattern)
            w.writeU64(job.topP.bitPattern)
            w.writeU32(UInt32(job.topK))
            w.writeArray(job.stop) { w, s in w.writeString(s) }
            w.writeU8(job.topLogprobs.map(UInt8.init) ?? 0xFF)
        case let .delta(_, delta):
            w.writeString(delta.text)
            w.writeArray(delta.logprobs) { w, l in
                w.writeString(l.token)
                w.writeU64(l.logprob.bitPattern)
                w.writeArray(l.top) { w, a in
                    w.writeString(a.token)
                    w.writeU64(a.logprob.bitPattern)
                }
            }
        case let .prepared(_, request):
            request.encode(to: &w)
        case let .ticket(_, ticket, signature):
            ticket.encode(to: &w)
            w.writeSignature(signature)
        case let .end(_, finish, receipt, output, stopSequenceEnd):
            w.writeU8(finish == .stop ? 0 : 1)
            InferenceRecord.writeResult(receipt, output, stopSequenceEnd, to: &w)
        case let .error(_, e):
            w.writeU16(UInt16(clamping: e.status))
            w.writeString(e.type)
            w.writeString(e.code ?? "")
            w.writeString(e.message)
            w.writeOptional(e.param) { w, p in w.writeString(p) }
        case .cancel:
            break
        case let .announce(_, record):
            record.encodePayload(to: &w)
        }
        return w.bytes
    }

    public static func decode(_ bytes: ArraySlice<UInt8>, limits: APILimits = APILimits()) throws(WireError) -> InferenceMessage {
        try WireReader.decode(bytes) { (r: inout WireReader) throws(WireError) in
            let version = try r.readU8(field: "inference.version")
            guard version == Self.version else { throw .invalidValue(field: "inference.version", reason: "unknown version \(version)") }
            let kind = try r.readU8(field: "inference.kind")
            let id = try r.readBytes32(field: "inference.id")
            switch kind {
            case 1: return .request(id: id, job: try readJob(&r, limits: limits))
            case 2:
                let text = try r.readString(field: "inference.text", maxLength: maxTextBytes)
                let logprobs = try r.readArray(field: "inference.logprobs", maxCount: maxLogprobsPerDelta, minElementSize: 16) {
                    (r: inout WireReader) throws(WireError) -> TokenLogprob in
                    let token = try r.readString(field: "inference.logprob.token", maxLength: maxToken)
                    let logprob = try readNumber(&r, "inference.logprob.value")
                    let top = try r.readArray(field: "inference.logprob.top", maxCount: limits.maxTopLogprobs, minElementSize: 12) {
                        (r: inout WireReader) throws(WireError) -> TokenLogprob.Alternative in
                        TokenLogprob.Alternative(token: try r.readString(field: "inference.top.token", maxLength: maxToken),
                                                 logprob: try readNumber(&r, "inference.top.value"))
                    }
                    return TokenLogprob(token: token, logprob: logprob, top: top)
                }
                return .delta(id: id, CompletionDelta(text: text, logprobs: logprobs))
            case 3:
                let finish: ChorusInference.FinishReason = switch try r.readU8(field: "inference.finish") {
                case 0: .stop
                case 1: .length
                case let other: throw .invalidValue(field: "inference.finish", reason: "unknown finish reason \(other)")
                }
                let result = try InferenceRecord.readResult(&r)
                return .end(id: id, finish: finish, receipt: result.receipt, output: result.output, stopSequenceEnd: result.stopSequenceEnd)
            case 4:
                let status = Int(try r.readU16(field: "inference.status"))
                guard (400...599).contains(status) else { throw .invalidValue(field: "inference.status", reason: "\(status) is not an error status") }
                let type = try r.readString(field: "inference.error_type", maxLength: 64)
                let code = try r.readString(field: "inference.code", maxLength: 64)
                let message = try r.readString(field: "inference.message", maxLength: maxErrorText)
                let param = try r.readOptional(field: "inference.param") { (r: inout WireReader) throws(WireError) in
                    try r.readString(field: "inference.param", maxLength: 64)
                }
                return .error(id: id, OpenAIError(status: status, message: message, type: type, param: param, code: code.isEmpty ? nil : code))
            case 5: return .cancel(id: id)
            case 6: return .prepared(id: id, try InferenceRequest(from: &r))
            case 7: return .ticket(id: id, try InferenceTicket(from: &r), signature: try r.readSignature(field: "inference.gateway_signature"))
            case 8: return .announce(id: id, try InferenceRecord.decodePayload(&r))
            default: throw .invalidValue(field: "inference.kind", reason: "unknown message kind \(kind)")
            }
        }
    }

    private static func readJob(_ r: inout WireReader, limits: APILimits) throws(WireError) -> InferenceJob {
        let model = try r.readString(field: "inference.model", maxLength: maxModelID)
        let input: InferenceJob.Input
        switch try r.readU8(field: "inference.input") {
        case 0:
            input = .chat(try r.readArray(field: "inference.messages", maxCount: limits.maxMessages, minElementSize: 8) {
                (r: inout WireReader) throws(WireError) -> ChatMessage in
                ChatMessage(role: try r.readString(field: "inference.role", maxLength: maxRole),
                            content: try r.readString(field: "inference.content", maxLength: maxTextBytes))
            })
        case 1: input = .text(try r.readString(field: "inference.prompt", maxLength: maxTextBytes))
        case let other: throw .invalidValue(field: "inference.input", reason: "unknown input kind \(other)")
        }
        let maxTokens = Int(try r.readU32(field: "inference.max_tokens"))
        guard maxTokens <= limits.maxTokens else {
            throw .invalidValue(field: "inference.max_tokens", reason: "\(maxTokens) exceeds \(limits.maxTokens)")
        }
        let temperature = try readNumber(&r, "inference.temperature")
        let topP = try readNumber(&r, "inference.top_p")
        guard (0...2).contains(temperature), topP > 0, topP <= 1 else {
            throw .invalidValue(field: "inference.sampling", reason: "temperature \(temperature) or top_p \(topP) out of range")
        }
        let topK = Int(try r.readU32(field: "inference.top_k"))
        let stop = try r.readArray(field: "inference.stop", maxCount: limits.maxStopSequences, minElementSize: 4) {
            (r: inout WireReader) throws(WireError) -> String in
            try r.readString(field: "inference.stop", maxLength: limits.maxStopBytes)
        }
        let top = try r.readU8(field: "inference.top_logprobs")
        guard top == 0xFF || Int(top) <= limits.maxTopLogprobs else {
            throw .invalidValue(field: "inference.top_logprobs", reason: "\(top) exceeds \(limits.maxTopLogprobs)")
        }
        return InferenceJob(model: model, input: input, maxTokens: maxTokens == 0 ? nil : maxTokens, temperature: temperature,
                            topP: topP, topK: topK, stop: stop, topLogprobs: top == 0xFF ? nil : Int(top))
    }

    private static func readNumber(_ r: inout WireReader, _ field: String) throws(WireError) -> Double {
        let value = Double(bitPattern: try r.readU64(field: field))
        guard value.isFinite else { throw .invalidValue(field: field, reason: "not a finite number") }
        return value
    }
}
