public import ChorusCrypto
public import ChorusProtocol
import ChorusStore
import ChorusWire
import Synchronization

/// One inference this node took part in, as executor, gateway or validator: the canonical request,
/// the ticket and its signature, the executor's receipt, the payload (output ids) it binds, and a
/// validator's check of it. Kept so that `chorus inferences` can show them and so the payload
/// outlives the request (validators re-run it, Specs/inference.md §7).
public struct InferenceRecord: Sendable, Equatable {
    public struct Roles: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let executor = Roles(rawValue: 1)
        public static let gateway = Roles(rawValue: 2)
        /// A member of the model's group that re-ran it (`check`).
        public static let validator = Roles(rawValue: 4)
    }

    /// A validator's re-run (Specs/inference.md §7): positions compared, flips (and how many of
    /// them fell outside its kept set), the verdict of the exact flip test, and the time it took.
    public struct Check: Sendable, Equatable {
        public var positions: UInt32
        public var flips: UInt32
        public var outOfSet: UInt32
        public var valid: Bool
        public var durationMs: UInt32

        public init(positions: UInt32, flips: UInt32, outOfSet: UInt32, valid: Bool, durationMs: UInt32) {
            self.positions = positions
            self.flips = flips
            self.outOfSet = outOfSet
            self.valid = valid
            self.durationMs = durationMs
        }
    }

    public var roles: Roles
    public var request: InferenceRequest
    public var ticket: InferenceTicket
    public var gatewaySignature: Ed25519.Signature
    public var receipt: SignedInferenceReceipt
    public var output: [UInt32]
    public var stopSequenceEnd: UInt32?
    public var recordedAtMs: UInt64
    public var check: Check?

    public var receiptID: Bytes32 { receipt.id }

    /// The payload a gateway announces and a record stores: request ‖ ticket ‖ gateway signature ‖
    /// signed receipt ‖ output ids ‖ optional stop-sequence end (inference-routing.md §4, kind 8).
    func encodePayload(to w: inout WireWriter) {
        request.encode(to: &w)
        ticket.encode(to: &w)
        w.writeSignature(gatewaySignature)
        Self.writeResult(receipt, output, stopSequenceEnd, to: &w)
    }

    /// The executor's result: signed receipt ‖ output ids ‖ optional stop-sequence end, the body
    /// of a request's end (inference-routing.md §4, kind 3, after the finish byte) and the tail of
    /// the payload.
    static func writeResult(_ receipt: SignedInferenceReceipt, _ output: [UInt32], _ stopSequenceEnd: UInt32?, to w: inout WireWriter) {
        receipt.encode(to: &w)
        w.writeArray(output) { $0.writeU32($1) }
        w.writeOptional(stopSequenceEnd) { $0.writeU32($1) }
    }

    /// Reads what `writeResult` wrote.
    static func readResult(_ r: inout WireReader) throws(WireError)
        -> (receipt: SignedInferenceReceipt, output: [UInt32], stopSequenceEnd: UInt32?) {
        let receipt = try SignedInferenceReceipt(from: &r)
        let output = try r.readArray(field: "inference.output", maxCount: Int(InferenceRequest.maxOutputTokens), minElementSize: 4) {
            (r: inout WireReader) throws(WireError) -> UInt32 in try r.readU32(field: "inference.output.id")
        }
        let stopEnd = try r.readOptional(field: "inference.stop_sequence_end") { (r: inout WireReader) throws(WireError) in
            try r.readU32(field: "inference.stop_sequence_end")
        }
        return (receipt, output, stopEnd)
    }

    /// Reads what `encodePayload` wrote, as a record with no roles.
    static func decodePayload(_ r: inout WireReader) throws(WireError) -> InferenceRecord {
        let request = try InferenceRequest(from: &r)
        let ticket = try InferenceTicket(from: &r)
        let signature = try r.readSignature(field: "inference.gateway_signature")
        let result = try readResult(&r)
        return InferenceRecord(roles: [], request: request, ticket: ticket, gatewaySignature: signature, receipt: result.receipt,
                               output: result.output, stopSequenceEnd: result.stopSequenceEnd, recordedAtMs: 0)
    }

    func encoded() -> [UInt8] {
        var w = WireWriter()
        w.writeU8(1)
        w.writeU8(roles.rawValue)
        w.writeU64(recordedAtMs)
        encodePayload(to: &w)
        w.writeOptional(check) { w, c in
            w.writeU32(c.positions)
            w.writeU32(c.flips)
            w.writeU32(c.outOfSet)
            w.writeU8(c.valid ? 1 : 0)
            w.writeU32(c.durationMs)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(WireError) -> InferenceRecord {
        try WireReader.decode(bytes[...]) { (r: inout WireReader) throws(WireError) -> InferenceRecord in
            let version = try r.readU8(field: "inference-record.version")
            guard version == 1 else { throw .unknownVersion(what: "inference-record", version: Int(version), highestKnown: 1) }
            let roles = Roles(rawValue: try r.readU8(field: "inference-record.roles"))
            let recordedAt = try r.readU64(field: "inference-record.recorded_at_ms")
            var record = try decodePayload(&r)
            record.roles = roles
            record.recordedAtMs = recordedAt
            record.check = try r.readOptional(field: "inference-record.check") { (r: inout WireReader) throws(WireError) -> Check in
                Check(positions: try r.readU32(field: "inference-record.check.positions"), flips: try r.readU32(field: "inference-record.check.flips"),
                      outOfSet: try r.readU32(field: "inference-record.check.out_of_set"), valid: try r.readU8(field: "inference-record.check.valid") == 1,
                      durationMs: try r.readU32(field: "inference-record.check.duration_ms"))
            }
            return record
        }
    }
}

/// The `inference-records` table: `record number (u64 BE) → InferenceRecord`, numbered in the
/// order this node recorded them. At most `capacity` are kept: each save beyond it deletes the
/// oldest, so gateways and executors cannot grow the store without bound (a record holds at most
/// a 131,072-id prompt and 8,192 output ids).
public final class InferenceRecordStore: Sendable {
    public static let defaultCapacity = 10_000

    private let environment: StoreEnvironment
    private let writer: StorageWriter
    private let table: Table<UInt64, [UInt8]>
    let capacity: Int
    /// The oldest kept and the next record numbers; only the node's loop saves, one at a time.
    private let numbers: Mutex<(first: UInt64, next: UInt64)>

    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public init(environment: StoreEnvironment, writer: StorageWriter, capacity: Int = InferenceRecordStore.defaultCapacity) throws(StoreError) {
        self.environment = environment
        self.writer = writer
        self.capacity = max(1, capacity)
        let table: Table<UInt64, [UInt8]> = try environment.table(NodeSchema.inferenceRecords)
        self.table = table
        var first: UInt64?
        var last: UInt64?
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try table.scan(in: txn) { (number: UInt64, _: [UInt8]) -> ScanControl in
                if first == nil { first = number }
                last = number
                return .continue
            }
        }
        numbers = Mutex((first ?? 0, (last ?? 0) + (last == nil ? 0 : 1)))
    }

    /// Queues `record` on the storage thread, deleting the oldest beyond the capacity.
    public func save(_ record: InferenceRecord) {
        var batch = WriteBatch()
        numbers.withLock { n in
            batch.put(n.next, record.encoded(), into: table)
            n.next += 1
            while n.next - n.first > UInt64(capacity) {
                batch.delete(n.first, from: table)
                n.first += 1
            }
        }
        writer.submit(batch) { _ in }
    }

    /// The newest records first, at most `limit`, those whose ticket names `epoch` when given.
    @available(*, noasync, message: "runs an LMDB read transaction; call from a thread, not a task")
    public func recent(limit: Int, epoch: UInt64? = nil) throws(StoreError) -> [InferenceRecord] {
        var out: [InferenceRecord] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try table.scan(in: txn) { (_: UInt64, value: [UInt8]) -> ScanControl in
                if let record = try? InferenceRecord.decode(value), epoch == nil || record.ticket.epoch == epoch { out.append(record) }
                return .continue
            }
        }
        return Array(out.reversed().prefix(max(0, limit)))
    }
}
