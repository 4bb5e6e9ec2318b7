public import ChorusCrypto
public import ChorusWire

/// Why a generation ended, as a receipt carries it (Specs/inference.md §5).
public enum InferenceFinish: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The last output token is the first stop token or completes the first stop sequence.
    case stop = 1
    /// `max_tokens` tokens and no stop.
    case length = 2
    /// The client went away; fewer than `max_tokens` tokens and no stop.
    case cancelled = 3

    public var description: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .cancelled: "cancelled"
        }
    }
}

/// The executor's signed account of one inference (Specs/inference.md §5). It binds the request,
/// the seed, every output token (by digest), their number and the finish reason, so an executor
/// cannot claim more tokens than it produced (`truncate`), another tape (`wrong-seed`), or a length
/// or stop it did not reach: the gateway checks it against what it streamed before the last byte
/// reaches the user, and validators against the payload they re-run.
public struct InferenceReceipt: Sendable, Hashable, WireCodable {
    public static let version: UInt8 = 1

    public let requestID: Bytes32
    public let requestDigest: Bytes32
    public let model: String
    public let seed: Bytes32
    public let gateway: Ed25519.PublicKey
    public let executor: Ed25519.PublicKey
    public let promptTokens: UInt32
    public let outputDigest: Bytes32
    public let outputTokens: UInt32
    public let finish: InferenceFinish
    /// Unix milliseconds on the executor's clock when it accepted the request.
    public let startedAtMs: UInt64
    /// Milliseconds from `startedAtMs` to the first output token (0 with no tokens).
    public let firstTokenMs: UInt32
    /// Milliseconds from `startedAtMs` to the end.
    public let totalMs: UInt32

    public init(
        requestID: Bytes32, requestDigest: Bytes32, model: String, seed: Bytes32, gateway: Ed25519.PublicKey, executor: Ed25519.PublicKey,
        promptTokens: UInt32, outputDigest: Bytes32, outputTokens: UInt32, finish: InferenceFinish, startedAtMs: UInt64,
        firstTokenMs: UInt32, totalMs: UInt32
    ) throws(ProtocolError) {
        self.requestID = requestID
        self.requestDigest = requestDigest
        self.model = model
        self.seed = seed
        self.gateway = gateway
        self.executor = executor
        self.promptTokens = promptTokens
        self.outputDigest = outputDigest
        self.outputTokens = outputTokens
        self.finish = finish
        self.startedAtMs = startedAtMs
        self.firstTokenMs = firstTokenMs
        self.totalMs = totalMs
        if let problem { throw .invalidStatement(type: "inference-receipt", reason: problem) }
    }

    /// The receipt for `output` of `request` issued by `ticket`.
    public init(
        request: InferenceRequest, ticket: InferenceTicket, seed: Bytes32, executor: Ed25519.PublicKey, output: [UInt32],
        finish: InferenceFinish, startedAtMs: UInt64, firstTokenMs: UInt32, totalMs: UInt32
    ) throws(ProtocolError) {
        try self.init(requestID: ticket.requestID, requestDigest: request.digest, model: request.model, seed: seed, gateway: ticket.gateway,
                      executor: executor, promptTokens: UInt32(request.promptTokens.count), outputDigest: Self.outputDigest(output),
                      outputTokens: UInt32(output.count), finish: finish, startedAtMs: startedAtMs, firstTokenMs: firstTokenMs, totalMs: totalMs)
    }

    private var problem: String? {
        if model.isEmpty || model.utf8.count > ModelParameters.maxIDLength { return "model id must be 1 to \(ModelParameters.maxIDLength) bytes" }
        if promptTokens < 1 || Int(promptTokens) > InferenceRequest.maxPromptTokens { return "prompt_tokens \(promptTokens) outside 1...\(InferenceRequest.maxPromptTokens)" }
        if outputTokens > InferenceRequest.maxOutputTokens { return "output_tokens \(outputTokens) above \(InferenceRequest.maxOutputTokens)" }
        if outputTokens == 0 && finish != .cancelled { return "no output tokens with finish reason \(finish) (only cancelled may have none)" }
        if firstTokenMs > totalMs { return "first token at \(firstTokenMs) ms after the end at \(totalMs) ms" }
        return nil
    }

    /// `H("chorus/inference/output/1\0" ‖ array<u32> ids)`.
    public static func outputDigest(_ ids: [UInt32]) -> Bytes32 {
        var w = WireWriter(reservingCapacity: 32 + 4 * ids.count)
        w.writeRaw(Array("chorus/inference/output/1\0".utf8))
        w.writeArray(ids) { $0.writeU32($1) }
        return Blake2b.hash256(w.bytes)
    }

    /// `H("chorus/inference/receipt/1\0" ‖ encoding)`.
    public var id: Bytes32 { Blake2b.hash256(Array("chorus/inference/receipt/1\0".utf8) + encodedBytes()) }

    /// `"chorus/inference/receipt-sig/1\0" ‖ receipt id`: what the executor signs.
    public static func signedMessage(receiptID: Bytes32) -> [UInt8] {
        Array("chorus/inference/receipt-sig/1\0".utf8) + receiptID.bytes
    }

    public func sign(with key: Ed25519.SigningKey) throws(ProtocolError) -> SignedInferenceReceipt {
        guard key.publicKey == executor else {
            throw .invalidStatement(type: "inference-receipt", reason: "signed by \(key.publicKey.hex), the receipt names executor \(executor.hex)")
        }
        return SignedInferenceReceipt(receipt: self, signature: key.sign(Self.signedMessage(receiptID: id)))
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeBytes32(requestID)
        writer.writeBytes32(requestDigest)
        writer.writeString(model)
        writer.writeBytes32(seed)
        writer.writePublicKey(gateway)
        writer.writePublicKey(executor)
        writer.writeU32(promptTokens)
        writer.writeBytes32(outputDigest)
        writer.writeU32(outputTokens)
        writer.writeU8(finish.rawValue)
        writer.writeU64(startedAtMs)
        writer.writeU32(firstTokenMs)
        writer.writeU32(totalMs)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "inference-receipt.version")
        guard version == Self.version else {
            throw .unknownVersion(what: "inference-receipt", version: Int(version), highestKnown: Int(Self.version))
        }
        requestID = try reader.readBytes32(field: "inference-receipt.request_id")
        requestDigest = try reader.readBytes32(field: "inference-receipt.request_digest")
        model = try reader.readString(field: "inference-receipt.model", maxLength: ModelParameters.maxIDLength)
        seed = try reader.readBytes32(field: "inference-receipt.seed")
        gateway = try reader.readPublicKey(field: "inference-receipt.gateway")
        executor = try reader.readPublicKey(field: "inference-receipt.executor")
        promptTokens = try reader.readU32(field: "inference-receipt.prompt_tokens")
        outputDigest = try reader.readBytes32(field: "inference-receipt.output_digest")
        outputTokens = try reader.readU32(field: "inference-receipt.output_tokens")
        let tag = try reader.readU8(field: "inference-receipt.finish_reason")
        guard let finish = InferenceFinish(rawValue: tag) else {
            throw .invalidValue(field: "inference-receipt.finish_reason", reason: "must be 1 (stop), 2 (length) or 3 (cancelled), got \(tag)")
        }
        self.finish = finish
        startedAtMs = try reader.readU64(field: "inference-receipt.started_at_ms")
        firstTokenMs = try reader.readU32(field: "inference-receipt.first_token_ms")
        totalMs = try reader.readU32(field: "inference-receipt.total_ms")
        if let problem { throw .invalidValue(field: "inference-receipt", reason: problem) }
    }
}

/// A receipt and the executor's signature over its id; encoded as the receipt then `bytes[64]`.
public struct SignedInferenceReceipt: Sendable, Hashable, WireCodable {
    public let receipt: InferenceReceipt
    public let signature: Ed25519.Signature

    public init(receipt: InferenceReceipt, signature: Ed25519.Signature) {
        self.receipt = receipt
        self.signature = signature
    }

    public var id: Bytes32 { receipt.id }

    /// Checks the executor's signature.
    public func verifySignature() throws(ProtocolError) {
        guard receipt.executor.isValidSignature(signature, for: InferenceReceipt.signedMessage(receiptID: receipt.id)) else {
            throw .invalidStatement(type: "inference-receipt", reason: "signature is not \(receipt.executor.hex)'s over receipt \(receipt.id.hex)")
        }
    }

    /// Everything the gateway (before the last byte reaches its user) and a validator (before it
    /// re-runs) check (Specs/inference.md §5): the signature; the request, ticket, gateway
    /// signature and beacon give this request id, digest, model, prompt length and seed; the
    /// output gives the digest and count; and the finish reason is the one `output` reaches
    /// (`FinishRule`). `stopSequenceEnd` is the first output index at which the decoded output
    /// contains a stop sequence (nil: none), computed by the caller with the model's tokenizer.
    public func check(
        request: InferenceRequest, ticket: InferenceTicket, gatewaySignature: Ed25519.Signature, beacon: Bytes32,
        output: [UInt32], stopSequenceEnd: Int? = nil
    ) throws(ProtocolError) {
        func fail(_ reason: String) -> ProtocolError { .invalidStatement(type: "inference-receipt", reason: reason) }
        try verifySignature()
        let r = receipt
        guard ticket.requestDigest == request.digest else { throw fail("the ticket names request \(ticket.requestDigest.hex), not \(request.digest.hex)") }
        try ticket.verify(gatewaySignature)
        guard r.requestID == ticket.requestID else { throw fail("names request id \(r.requestID.hex), the ticket's is \(ticket.requestID.hex)") }
        guard r.requestDigest == request.digest else { throw fail("names request digest \(r.requestDigest.hex), not \(request.digest.hex)") }
        guard r.gateway == ticket.gateway else { throw fail("names gateway \(r.gateway.hex), the ticket's is \(ticket.gateway.hex)") }
        guard r.model == request.model else { throw fail("names model \"\(r.model)\", the request's is \"\(request.model)\"") }
        guard Int(r.promptTokens) == request.promptTokens.count else { throw fail("\(r.promptTokens) prompt tokens, the request has \(request.promptTokens.count)") }
        let seed = ticket.seed(gatewaySignature: gatewaySignature, beacon: beacon)
        guard r.seed == seed else { throw fail("seed \(r.seed.hex) is not the request's \(seed.hex)") }
        guard Int(r.outputTokens) == output.count else { throw fail("claims \(r.outputTokens) output tokens, the payload has \(output.count)") }
        guard r.outputDigest == InferenceReceipt.outputDigest(output) else { throw fail("output digest does not match the payload's tokens") }
        try FinishRule.check(request: request, output: output, finish: r.finish, stopSequenceEnd: stopSequenceEnd)
    }

    public func encode(to writer: inout WireWriter) {
        receipt.encode(to: &writer)
        writer.writeSignature(signature)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        receipt = try InferenceReceipt(from: &reader)
        signature = try reader.readSignature(field: "inference-receipt.signature")
    }
}
