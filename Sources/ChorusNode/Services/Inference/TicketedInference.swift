import ChorusCrypto
import ChorusInference
import ChorusMesh
import ChorusProtocol
import Synchronization

/// The pieces of Specs/inference.md that gateway and executor share when a request runs under a
/// ticket: the canonical request of a prepared job, the job as the tape must sample it, the
/// executor's receipt and the gateway's check of it. The same code serves a request routed to
/// another node and one this node serves itself.
enum TicketedInference {
    /// The canonical request (§1) of `job` prepared as `prepared`. Temperature and top-p become
    /// millionths; stop sequences a sorted set without empty strings; a top-k above the spec's
    /// bound is off (it exceeds every vocabulary).
    static func canonicalRequest(_ job: InferenceJob, _ prepared: PreparedJob) throws(OpenAIError) -> InferenceRequest {
        let stops = Set(job.stop.filter { !$0.isEmpty }).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let topK = UInt32(clamping: job.topK)
        do {
            return try InferenceRequest(
                model: job.model, promptTokens: prepared.promptTokens.map { UInt32(clamping: $0) }, maxTokens: UInt32(clamping: prepared.maxTokens),
                temperatureMillionths: UInt32((job.temperature * 1_000_000).rounded()), topK: topK > InferenceRequest.maxTopK ? 0 : topK,
                topPMillionths: max(1, UInt32((job.topP * 1_000_000).rounded())),
                stopTokens: Set(prepared.stopTokens.map { UInt32(clamping: $0) }).sorted(), stopSequences: stops)
        } catch {
            throw .invalid(nil, "The request cannot be put in canonical form: \(error.description)")
        }
    }

    /// `job` with exactly the sampling values `request` carries (T = millionths / 10^6, one
    /// correctly rounded division), so the executor samples what validators recompute.
    static func canonicalJob(_ job: InferenceJob, _ request: InferenceRequest) -> InferenceJob {
        var canonical = job
        canonical.temperature = Double(request.temperatureMillionths) / 1_000_000
        canonical.topP = Double(request.topPMillionths) / 1_000_000
        canonical.topK = Int(request.topK)
        return canonical
    }

    /// The beacon `seed(e, R_e)` fixed by final table `e` (epochs.md §2); 32 zero bytes before the
    /// first final table (epoch 0), when no beacon exists yet.
    static func beacon(of table: WeightTable?) -> Bytes32? {
        guard let table else { return .zero }
        return try? EpochSeed(networkID: table.networkID, epoch: table.epoch, previousTableDigest: table.previousDigest,
                              reveals: table.reveals).value
    }

    /// The executor's work once its ticket is in hand, the same for a routed request and one this
    /// node serves itself: generates `prepared` from the ticket's tape with exactly the canonical
    /// sampling, times it, signs the receipt (§5) and returns the output with the record of it.
    static func generate(
        _ job: InferenceJob, _ prepared: PreparedJob, under issued: IssuedTicket, on local: any ExecutorBackend, key: Ed25519.SigningKey,
        roles: InferenceRecord.Roles, unixMillis: @Sendable () -> UInt64, onDelta: @escaping @Sendable (CompletionDelta) -> Bool
    ) async throws(OpenAIError) -> (output: GeneratedOutput, record: InferenceRecord) {
        let startedAt = unixMillis()
        let clock = ContinuousClock(), start = clock.now
        let firstPiece = Mutex<Duration?>(nil)
        let output = try await local.generate(canonicalJob(job, issued.request), prepared: prepared, tapeSeed: issued.seed) { delta in
            firstPiece.withLock { if $0 == nil { $0 = start.duration(to: clock.now) } }
            return onDelta(delta)
        }
        let totalMs = UInt32(clamping: start.duration(to: clock.now).nanoseconds / 1_000_000)
        let firstTokenMs = min(totalMs, UInt32(clamping: (firstPiece.withLock { $0 } ?? .zero).nanoseconds / 1_000_000))
        let ids = output.tokens.map { UInt32(clamping: $0) }
        let finish: InferenceFinish = output.cancelled ? .cancelled : (output.outcome.finishReason == .length ? .length : .stop)
        let receipt: SignedInferenceReceipt
        do {
            receipt = try InferenceReceipt(request: issued.request, ticket: issued.ticket, seed: issued.seed, executor: key.publicKey,
                                           output: ids, finish: finish, startedAtMs: startedAt, firstTokenMs: firstTokenMs,
                                           totalMs: totalMs).sign(with: key)
        } catch {
            throw .internalError("The executor could not sign its receipt: \(error.description)")
        }
        let record = InferenceRecord(roles: roles, request: issued.request, ticket: issued.ticket, gatewaySignature: issued.signature,
                                     receipt: receipt, output: ids, stopSequenceEnd: output.stopSequenceEnd.map { UInt32(clamping: $0) },
                                     recordedAtMs: unixMillis())
        return (output, record)
    }
}

/// A ticket the gateway issued: what it needs to check the receipt that ends the request.
struct IssuedTicket: Sendable {
    let request: InferenceRequest
    let ticket: InferenceTicket
    let signature: Ed25519.Signature
    let beacon: Bytes32

    var seed: Bytes32 { ticket.seed(gatewaySignature: signature, beacon: beacon) }

    /// The gateway's check before the last byte reaches the user (§5.1): the receipt is the drawn
    /// executor's, over this ticket, and binds exactly `output`.
    func check(_ receipt: SignedInferenceReceipt, from executor: Ed25519.PublicKey, output: [UInt32], stopSequenceEnd: UInt32?) throws(ProtocolError) {
        guard receipt.receipt.executor == executor else {
            throw .invalidStatement(type: "inference-receipt", reason: "names executor \(receipt.receipt.executor.hex), the request went to \(executor.hex)")
        }
        try receipt.check(request: request, ticket: ticket, gatewaySignature: signature, beacon: beacon, output: output,
                          stopSequenceEnd: stopSequenceEnd.map(Int.init))
    }
}
