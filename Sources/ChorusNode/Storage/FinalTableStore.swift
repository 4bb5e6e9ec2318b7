import ChorusProtocol
import ChorusStore
import ChorusWire

/// The `final-tables` table: every final weight table with its certificate, as the engine
/// finalized it, so a restart can take a certified table as it was certified.
///
/// Recomputing an epoch from the stored statements is not always enough: a statement that arrived
/// after the table became final (a late vote, say) is in the store but was not in the certified
/// table, and a recomputation that includes it would differ and break the chain. The engine
/// replays with recomputation first and falls back to the stored table, which it accepts only
/// with a certificate that verifies against the previous final table (`EpochEngine.restoreFinal`).
///
/// Value: `u32 len ‖ table encoding ‖ u32 count ‖ (u32 len ‖ certificate-signature statement)*`.
struct FinalTableStore: Sendable {
    private let environment: StoreEnvironment
    private let writer: StorageWriter
    private let table: Table<UInt64, [UInt8]>

    init(environment: StoreEnvironment, writer: StorageWriter) throws(StoreError) {
        self.environment = environment
        self.writer = writer
        self.table = try environment.table(NodeSchema.finalTables)
    }

    /// Queues the record on the storage thread (never blocking the loop).
    func save(_ final: WeightTable, _ certificate: Certificate) {
        var w = WireWriter()
        w.writeBytes(final.encodedBytes())
        w.writeArray(certificate.signatures) { $0.writeBytes($1.encoded) }
        var batch = WriteBatch()
        batch.put(final.epoch, w.bytes, into: table)
        writer.submit(batch) { _ in }
    }

    /// Every stored record that decodes, by epoch (signatures verified again on the way out).
    @available(*, noasync)
    func load(policy: StatementPolicy) throws(StoreError) -> [UInt64: (table: WeightTable, certificate: Certificate)] {
        var out: [UInt64: (table: WeightTable, certificate: Certificate)] = [:]
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try table.scan(in: txn) { (epoch: UInt64, value: [UInt8]) -> ScanControl in
                if let record = Self.decode(value, policy: policy), record.table.epoch == epoch { out[epoch] = record }
                return .continue
            }
        }
        return out
    }

    static func decode(_ bytes: [UInt8], policy: StatementPolicy) -> (table: WeightTable, certificate: Certificate)? {
        try? WireReader.decode(bytes[...]) { (r: inout WireReader) throws(WireError) -> (WeightTable, Certificate) in
            let table = try WeightTable(decoding: try r.readBytes(field: "final.table", maxLength: 64 << 20))
            let signatures = try r.readArray(field: "final.certificate", maxCount: 100_000) { (r: inout WireReader) throws(WireError) -> SignedStatement in
                try SignedStatement.decode(Array(try r.readBytes(field: "final.signature", maxLength: SignedStatement.maxEncodedLength)), policy: policy)
            }
            return (table, Certificate(epoch: table.epoch, tableDigest: table.digest, signatures: signatures))
        }
    }
}
