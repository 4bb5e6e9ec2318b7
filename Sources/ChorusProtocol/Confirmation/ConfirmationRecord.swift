public import ChorusCrypto
public import ChorusWire

/// How one participant's (model) weight held up in the confirmation windows of an epoch
/// (Specs/epochs.md §4). Recorded in the next epoch's weight table, which applies the outcome.
public struct ConfirmationRecord: Sendable, Hashable, WireCodable {
    public var participant: Bytes32
    public var model: String
    /// `ConfirmationPoC.expectedCount` of the participant's `pocWeight` for the model.
    public var expected: UInt64
    /// The accepted reading of each held window, in window order (0: no, conflicting or rejected
    /// commit). A window nobody committed a reading for is void and has no entry.
    public var readings: [UInt64]
    /// `readings.min() ≥ pass_ratio × expected`.
    public var passed: Bool

    public init(participant: Bytes32, model: String, expected: UInt64, readings: [UInt64], passed: Bool) {
        self.participant = participant
        self.model = model
        self.expected = expected
        self.readings = readings
        self.passed = passed
    }

    /// Table order: by participant, then by model id's bytes.
    public static func tableOrder(_ a: ConfirmationRecord, _ b: ConfirmationRecord) -> Bool {
        a.participant != b.participant ? a.participant < b.participant : ByteString(Array(a.model.utf8)) < ByteString(Array(b.model.utf8))
    }

    /// The confirmation weight: the minimum reading.
    public var weight: UInt64 { readings.min() ?? 0 }

    public func encode(to writer: inout WireWriter) {
        writer.writeBytes32(participant)
        writer.writeString(model)
        writer.writeU64(expected)
        writer.writeArray(readings) { $0.writeU64($1) }
        writer.writeBool(passed)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        participant = try reader.readBytes32(field: "confirmation.participant")
        model = try reader.readString(field: "confirmation.model", maxLength: ModelParameters.maxIDLength)
        expected = try reader.readU64(field: "confirmation.expected")
        readings = try reader.readArray(field: "confirmation.readings", maxCount: Int(ConfirmationParameters.maxWindowsPerEpoch), minElementSize: 8) {
            (r: inout WireReader) throws(WireError) in try r.readU64(field: "confirmation.reading")
        }
        passed = try reader.readBool(field: "confirmation.passed")
    }
}
