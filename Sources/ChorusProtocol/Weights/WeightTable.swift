public import ChorusCrypto
public import ChorusWire

/// One participant's outcome for one model in a weight table.
public struct ModelEntry: Sendable, Hashable, WireCodable {
    public var model: String
    public var mode: ParticipationMode
    /// Count of the participant's latest commit (0 when it did not commit).
    public var committedCount: UInt64
    public var accepted: Bool
    /// `floor(count × reference_generation_ms / generation_ms)` when accepted, else 0.
    public var pocWeight: UInt64
    /// The voting power the participant held for this model in this epoch's tally (own voting
    /// weight if it committed, plus what was delegated to it, after the model cap). The same
    /// power weighs the votes on this epoch's confirmation readings (`ConfirmationTally`).
    public var votingPower: UInt64

    public init(model: String, mode: ParticipationMode, committedCount: UInt64, accepted: Bool, pocWeight: UInt64, votingPower: UInt64) {
        self.model = model
        self.mode = mode
        self.committedCount = committedCount
        self.accepted = accepted
        self.pocWeight = pocWeight
        self.votingPower = votingPower
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeString(model)
        writer.writeU8(mode.rawValue)
        writer.writeU64(committedCount)
        writer.writeBool(accepted)
        writer.writeU64(pocWeight)
        writer.writeU64(votingPower)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        model = try reader.readString(field: "weight-table.model", maxLength: ModelParameters.maxIDLength)
        let tag = try reader.readU8(field: "weight-table.mode")
        guard let mode = ParticipationMode(rawValue: tag) else { throw .invalidValue(field: "weight-table.mode", reason: "unknown mode \(tag)") }
        self.mode = mode
        committedCount = try reader.readU64(field: "weight-table.committed_count")
        accepted = try reader.readBool(field: "weight-table.accepted")
        pocWeight = try reader.readU64(field: "weight-table.poc_weight")
        votingPower = try reader.readU64(field: "weight-table.voting_power")
    }
}

/// One participant's row: consensus weight and the voting weight it carries into the next epoch.
public struct WeightEntry: Sendable, Hashable, WireCodable {
    public var participant: Bytes32
    /// Consensus weight after caps and penalties (rewards, routing, the next seed's eligibility).
    public var weight: UInt64
    /// `min(weight, previous table's weight)`: what its votes and certificate signatures count in
    /// the next epoch. A newcomer has none until it has held weight for one epoch, and neither
    /// has a participant that failed the previous epoch's confirmation PoC.
    public var votingWeight: UInt64
    /// Sorted by model id.
    public var models: [ModelEntry]

    public init(participant: Bytes32, weight: UInt64, votingWeight: UInt64, models: [ModelEntry]) {
        self.participant = participant
        self.weight = weight
        self.votingWeight = votingWeight
        self.models = models
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeBytes32(participant)
        writer.writeU64(weight)
        writer.writeU64(votingWeight)
        writer.writeArray(models)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        participant = try reader.readBytes32(field: "weight-table.participant")
        weight = try reader.readU64(field: "weight-table.weight")
        votingWeight = try reader.readU64(field: "weight-table.voting_weight")
        guard votingWeight <= weight else { throw .invalidValue(field: "weight-table.voting_weight", reason: "\(votingWeight) exceeds weight \(weight)") }
        models = try reader.readArray(of: ModelEntry.self, field: "weight-table.models", maxCount: NetworkParameters.maxModels, minElementSize: 30)
        try WireReader.requireStrictlyAscending(models.map { Array($0.model.utf8) }.map(ByteString.init), field: "weight-table.models")
    }
}

/// The weight table of an epoch: what every honest node computes identically from the epoch's
/// signed statements, signs (its digest), and, once final, uses as the base of the next epoch
/// (Specs/weights.md §6). Epoch 0 is the genesis table of the network file.
public struct WeightTable: Sendable, Hashable, WireCodable {
    /// 2: per-model voting power and the previous epoch's confirmation records.
    public static let version: UInt8 = 2
    public static let maxEntries = 100_000

    public var networkID: String
    public var epoch: UInt64
    public var parametersDigest: Bytes32
    /// Digest of the previous epoch's final table (the parameters' digest for genesis).
    public var previousDigest: Bytes32
    /// Beacon reveals of this epoch known to the tally, sorted by author: the agreed seed material.
    public var reveals: [BeaconReveal]
    /// Committed to the beacon and did not reveal, sorted.
    public var nonRevealers: [Bytes32]
    /// Proven equivocators of this epoch (any model), sorted; their weight is zero.
    public var equivocators: [Bytes32]
    /// Participants with weight, sorted by id.
    public var entries: [WeightEntry]
    /// The confirmation PoC outcome of the previous epoch (`ConfirmationTally`), sorted by
    /// participant then model; a failed record costs the participant its voting weight here.
    public var confirmations: [ConfirmationRecord]

    public init(
        networkID: String, epoch: UInt64, parametersDigest: Bytes32, previousDigest: Bytes32, reveals: [BeaconReveal],
        nonRevealers: [Bytes32], equivocators: [Bytes32], entries: [WeightEntry], confirmations: [ConfirmationRecord] = []
    ) {
        self.networkID = networkID
        self.epoch = epoch
        self.parametersDigest = parametersDigest
        self.previousDigest = previousDigest
        self.reveals = reveals.sorted { $0.author < $1.author }
        self.nonRevealers = nonRevealers.sorted()
        self.equivocators = equivocators.sorted()
        self.entries = entries.sorted { $0.participant < $1.participant }
        self.confirmations = confirmations.sorted(by: ConfirmationRecord.tableOrder)
    }

    /// The table of epoch 0: genesis participants, their weight as consensus and voting weight.
    public static func genesis(_ parameters: NetworkParameters) -> WeightTable {
        WeightTable(
            networkID: parameters.networkID, epoch: 0, parametersDigest: parameters.digest, previousDigest: parameters.digest,
            reveals: [], nonRevealers: [], equivocators: [],
            entries: parameters.genesisParticipants.map { WeightEntry(participant: $0.id, weight: $0.weight, votingWeight: $0.weight, models: []) })
    }

    /// `H("chorus/weight-table/1\0" ‖ encoding)`: what certificate signatures sign.
    public var digest: Bytes32 { Blake2b.hash256(Array("chorus/weight-table/1\0".utf8) + encodedBytes()) }

    public func entry(_ participant: Bytes32) -> WeightEntry? {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].participant < participant { low = mid + 1 } else { high = mid }
        }
        return low < entries.count && entries[low].participant == participant ? entries[low] : nil
    }

    public func weight(of participant: Bytes32) -> UInt64 { entry(participant)?.weight ?? 0 }
    public func votingWeight(of participant: Bytes32) -> UInt64 { entry(participant)?.votingWeight ?? 0 }
    public var totalVotingWeight: UInt128 { entries.reduce(0) { $0 + UInt128($1.votingWeight) } }

    public var votingWeights: [Bytes32: UInt64] {
        Dictionary(uniqueKeysWithValues: entries.filter { $0.votingWeight > 0 }.map { ($0.participant, $0.votingWeight) })
    }

    /// The agreed seed of this epoch (for confirmation windows and routing), fixed once the table is final.
    public func agreedSeed() throws(ProtocolError) -> EpochSeed {
        try EpochSeed(networkID: networkID, epoch: epoch, previousTableDigest: previousDigest, reveals: reveals)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeString(networkID)
        writer.writeU64(epoch)
        writer.writeBytes32(parametersDigest)
        writer.writeBytes32(previousDigest)
        writer.writeArray(reveals) { w, r in
            w.writeBytes32(r.author)
            w.writeBytes32(r.reveal)
        }
        writer.writeArray(nonRevealers) { $0.writeBytes32($1) }
        writer.writeArray(equivocators) { $0.writeBytes32($1) }
        writer.writeArray(entries)
        writer.writeArray(confirmations)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "weight-table.version")
        guard version == Self.version else { throw .unknownVersion(what: "weight-table", version: Int(version), highestKnown: Int(Self.version)) }
        networkID = try reader.readString(field: "weight-table.network_id", maxLength: SignedStatement.maxNetworkIDLength)
        epoch = try reader.readU64(field: "weight-table.epoch")
        parametersDigest = try reader.readBytes32(field: "weight-table.parameters_digest")
        previousDigest = try reader.readBytes32(field: "weight-table.previous_digest")
        reveals = try reader.readArray(field: "weight-table.reveals", maxCount: Self.maxEntries, minElementSize: 64) { (r: inout WireReader) throws(WireError) in
            BeaconReveal(author: try r.readBytes32(field: "weight-table.reveal.author"), reveal: try r.readBytes32(field: "weight-table.reveal.value"))
        }
        try WireReader.requireStrictlyAscending(reveals.map(\.author), field: "weight-table.reveals")
        nonRevealers = try reader.readArray(field: "weight-table.non_revealers", maxCount: Self.maxEntries, minElementSize: 32) { (r: inout WireReader) throws(WireError) in
            try r.readBytes32(field: "weight-table.non_revealers")
        }
        try WireReader.requireStrictlyAscending(nonRevealers, field: "weight-table.non_revealers")
        equivocators = try reader.readArray(field: "weight-table.equivocators", maxCount: Self.maxEntries, minElementSize: 32) { (r: inout WireReader) throws(WireError) in
            try r.readBytes32(field: "weight-table.equivocators")
        }
        try WireReader.requireStrictlyAscending(equivocators, field: "weight-table.equivocators")
        entries = try reader.readArray(of: WeightEntry.self, field: "weight-table.entries", maxCount: Self.maxEntries, minElementSize: 52)
        try WireReader.requireStrictlyAscending(entries.map(\.participant), field: "weight-table.entries")
        confirmations = try reader.readArray(of: ConfirmationRecord.self, field: "weight-table.confirmations",
                                             maxCount: Self.maxEntries * NetworkParameters.maxModels, minElementSize: 49)
        for i in confirmations.indices.dropFirst() where !ConfirmationRecord.tableOrder(confirmations[i - 1], confirmations[i]) {
            throw .invalidValue(field: "weight-table.confirmations", reason: "not strictly ascending by (participant, model) at \(i)")
        }
    }
}
