/// `inferences`: the inference receipts this node recorded as executor, gateway or validator (newest first).
public struct InferencesResult: Codable, Sendable, Equatable {
    public struct Record: Codable, Sendable, Equatable {
        public var receiptID: String
        public var requestID: String
        /// "executor", "gateway", "validator".
        public var roles: [String]
        /// This node's re-run of it, as a validator (Specs/inference.md §7).
        public var check: Check?

        public struct Check: Codable, Sendable, Equatable {
            public var positions: UInt32
            public var flips: UInt32
            public var outOfSet: UInt32
            /// "valid" or "invalid" (the exact flip test).
            public var verdict: String
            public var durationMs: UInt32

            enum CodingKeys: String, CodingKey {
                case positions, flips, verdict
                case outOfSet = "out_of_set", durationMs = "duration_ms"
            }
        }
        public var model: String
        /// The ticket's epoch: the final table that routed the request and whose beacon seeded the tape.
        public var epoch: UInt64
        public var gateway: String
        public var executor: String
        public var promptTokens: UInt32
        public var outputTokens: UInt32
        /// stop, length or cancelled (the receipt's finish reason).
        public var finish: String
        public var seed: String
        public var firstTokenMs: UInt32
        public var totalMs: UInt32
        public var recordedAtMs: UInt64

        enum CodingKeys: String, CodingKey {
            case roles, check, model, epoch, gateway, executor, finish, seed
            case receiptID = "receipt_id", requestID = "request_id", promptTokens = "prompt_tokens", outputTokens = "output_tokens"
            case firstTokenMs = "first_token_ms", totalMs = "total_ms", recordedAtMs = "recorded_at_ms"
        }

        init(_ r: InferenceRecord) {
            let receipt = r.receipt.receipt
            receiptID = r.receiptID.hex
            requestID = receipt.requestID.hex
            roles = (r.roles.contains(.executor) ? ["executor"] : []) + (r.roles.contains(.gateway) ? ["gateway"] : [])
                + (r.roles.contains(.validator) ? ["validator"] : [])
            check = r.check.map { Check(positions: $0.positions, flips: $0.flips, outOfSet: $0.outOfSet, verdict: $0.valid ? "valid" : "invalid",
                                        durationMs: $0.durationMs) }
            model = receipt.model
            epoch = r.ticket.epoch
            gateway = receipt.gateway.hex
            executor = receipt.executor.hex
            promptTokens = receipt.promptTokens
            outputTokens = receipt.outputTokens
            finish = receipt.finish.description
            seed = receipt.seed.hex
            firstTokenMs = receipt.firstTokenMs
            totalMs = receipt.totalMs
            recordedAtMs = r.recordedAtMs
        }
    }

    public var records: [Record]
    /// Whether this node keeps records at all (it has a store).
    public var recording: Bool
}
