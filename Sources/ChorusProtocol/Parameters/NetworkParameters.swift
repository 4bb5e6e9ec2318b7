public import ChorusCrypto
public import ChorusWire

/// Lengths of the four stages of every epoch, in milliseconds (Specs/epochs.md).
public struct StageDurations: Sendable, Hashable, WireEncodable {
    /// PoC generation; its first `beaconRevealMs` are the beacon's reveal window.
    public var generationMs: UInt64
    public var validationMs: UInt64
    public var tallyMs: UInt64
    public var inferenceMs: UInt64
    /// Reveal window at the start of generation: PoC starts once the seed is known.
    public var beaconRevealMs: UInt64

    public init(generationMs: UInt64, validationMs: UInt64, tallyMs: UInt64, inferenceMs: UInt64, beaconRevealMs: UInt64) {
        self.generationMs = generationMs
        self.validationMs = validationMs
        self.tallyMs = tallyMs
        self.inferenceMs = inferenceMs
        self.beaconRevealMs = beaconRevealMs
    }

    public var epochMs: UInt64 { generationMs + validationMs + tallyMs + inferenceMs }

    public func encode(to writer: inout WireWriter) {
        writer.writeU64(generationMs)
        writer.writeU64(validationMs)
        writer.writeU64(tallyMs)
        writer.writeU64(inferenceMs)
        writer.writeU64(beaconRevealMs)
    }
}

/// A participant of the genesis table (epoch 0): its weight is both consensus and voting weight
/// for epoch 1.
public struct GenesisParticipant: Sendable, Hashable, WireEncodable {
    public var id: Bytes32
    public var weight: UInt64

    public init(id: Bytes32, weight: UInt64) {
        self.id = id
        self.weight = weight
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeBytes32(id)
        writer.writeU64(weight)
    }
}

/// Penalties and shares of the participation modes (Specs/delegation.md).
public struct DelegationParameters: Sendable, Hashable, WireEncodable {
    /// Weight fraction lost per model the participant REFUSEs.
    public var refusalPenalty: Ratio
    /// Weight fraction lost per model where the participant is NONE (or INTENT without a commit).
    public var noParticipationPenalty: Ratio
    /// Fraction of a delegator's weight moved to its delegate per delegated model.
    public var delegationShare: Ratio

    public init(refusalPenalty: Ratio, noParticipationPenalty: Ratio, delegationShare: Ratio) {
        self.refusalPenalty = refusalPenalty
        self.noParticipationPenalty = noParticipationPenalty
        self.delegationShare = delegationShare
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(refusalPenalty)
        writer.write(noParticipationPenalty)
        writer.write(delegationShare)
    }
}

/// Caps on weight concentration (Specs/weights.md). A zero ratio switches a cap off.
public struct CapParameters: Sendable, Hashable, WireEncodable {
    /// A non-initial model's group may add at most this times its members' weight from other models.
    public var groupCapFactor: Ratio
    /// Largest share of total consensus weight one participant may hold (floored by participant count).
    public var maxParticipantShare: Ratio
    /// Largest share of a model's total voting power one member may hold; the excess is burned.
    public var maxModelVotingPowerShare: Ratio

    public init(groupCapFactor: Ratio, maxParticipantShare: Ratio, maxModelVotingPowerShare: Ratio) {
        self.groupCapFactor = groupCapFactor
        self.maxParticipantShare = maxParticipantShare
        self.maxModelVotingPowerShare = maxModelVotingPowerShare
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(groupCapFactor)
        writer.write(maxParticipantShare)
        writer.write(maxModelVotingPowerShare)
    }
}

/// Confirmation PoC during the inference stage (Specs/epochs.md).
public struct ConfirmationParameters: Sendable, Hashable, WireEncodable {
    /// Windows are short re-measurements; more than this per epoch is a misconfiguration.
    public static let maxWindowsPerEpoch: UInt32 = 64

    /// Confirmation windows per epoch (0 switches confirmation PoC off).
    public var windowsPerEpoch: UInt32
    public var windowMs: UInt64
    /// A reading below this fraction of expected weight fails the participant.
    public var passRatio: Ratio

    public init(windowsPerEpoch: UInt32, windowMs: UInt64, passRatio: Ratio) {
        self.windowsPerEpoch = windowsPerEpoch
        self.windowMs = windowMs
        self.passRatio = passRatio
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU32(windowsPerEpoch)
        writer.writeU64(windowMs)
        writer.write(passRatio)
    }
}

/// Everything nodes of one network must agree on, from `Network/<name>/network.toml`.
///
/// The canonical encoding of this value (and its `digest`) identifies the parameter set, so two
/// nodes can tell in one comparison whether they run the same network rules.
public struct NetworkParameters: Sendable, Hashable, WireEncodable {
    public static let currentVersion: UInt8 = 1
    public static let maxModels = 64
    public static let maxGenesisParticipants = 10_000

    public var networkID: String
    /// Start of epoch 1, in milliseconds since 1970-01-01T00:00:00Z.
    public var genesisUnixMs: Int64
    public var stages: StageDurations
    /// Generation window to which PoC counts are normalized: `pocWeight = count × reference / generation`.
    public var referenceGenerationMs: UInt64
    /// Sorted by id.
    public var genesisParticipants: [GenesisParticipant]
    /// Sorted by id (bytewise).
    public var models: [ModelParameters]
    /// The model exempt from the group cap (the network's first model), if any.
    public var initialModelID: String?
    /// τ: a vote passes with more than τ of the previous epoch's total voting weight.
    public var voteThreshold: Ratio
    /// A prover's beacon reveal set must carry more than this share of voting weight.
    public var beaconMinRevealShare: Ratio
    public var delegation: DelegationParameters
    public var caps: CapParameters
    public var confirmation: ConfirmationParameters

    public init(
        networkID: String, genesisUnixMs: Int64, stages: StageDurations, referenceGenerationMs: UInt64,
        genesisParticipants: [GenesisParticipant], models: [ModelParameters], initialModelID: String?,
        voteThreshold: Ratio, beaconMinRevealShare: Ratio, delegation: DelegationParameters, caps: CapParameters,
        confirmation: ConfirmationParameters
    ) throws(ProtocolError) {
        self.networkID = networkID
        self.genesisUnixMs = genesisUnixMs
        self.stages = stages
        self.referenceGenerationMs = referenceGenerationMs
        self.genesisParticipants = genesisParticipants.sorted { $0.id < $1.id }
        self.models = models.sorted { Array($0.id.utf8).lexicographicallyPrecedes(Array($1.id.utf8)) }
        self.initialModelID = initialModelID
        self.voteThreshold = voteThreshold
        self.beaconMinRevealShare = beaconMinRevealShare
        self.delegation = delegation
        self.caps = caps
        self.confirmation = confirmation
        try validate()
    }

    /// The model with `id`, if approved.
    public func model(_ id: String) -> ModelParameters? { models.first { $0.id == id } }

    /// BLAKE2b-256 of `"chorus/params/1\0"` and the canonical encoding: names this rule set.
    public var digest: Bytes32 { Blake2b.hash256(Array("chorus/params/1\0".utf8) + encodedBytes()) }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.currentVersion)
        writer.writeString(networkID)
        writer.writeI64(genesisUnixMs)
        writer.write(stages)
        writer.writeU64(referenceGenerationMs)
        writer.writeArray(genesisParticipants)
        writer.writeArray(models)
        writer.writeOptional(initialModelID) { $0.writeString($1) }
        writer.write(voteThreshold)
        writer.write(beaconMinRevealShare)
        writer.write(delegation)
        writer.write(caps)
        writer.write(confirmation)
    }

    private func validate() throws(ProtocolError) {
        guard StatementCodecRules.isValidNetworkID(networkID) else {
            throw .invalidParameter(key: "network_id", expected: "1 to 64 characters of a-z 0-9 - . _", found: "\"\(networkID)\"")
        }
        let s = stages
        for (key, value) in [("generation_ms", s.generationMs), ("validation_ms", s.validationMs), ("tally_ms", s.tallyMs), ("inference_ms", s.inferenceMs)]
        where value == 0 || value > 86_400_000 * 30 {
            throw .invalidParameter(key: "stages.\(key)", expected: "1 ms to 30 days", found: "\(value)")
        }
        guard s.beaconRevealMs < s.generationMs else {
            throw .invalidParameter(key: "stages.beacon_reveal_ms", expected: "less than stages.generation_ms (\(s.generationMs))", found: "\(s.beaconRevealMs)")
        }
        guard referenceGenerationMs > 0, referenceGenerationMs <= 86_400_000 * 30 else {
            throw .invalidParameter(key: "stages.reference_generation_ms", expected: "1 ms to 30 days", found: "\(referenceGenerationMs)")
        }
        guard !models.isEmpty, models.count <= Self.maxModels else {
            throw .invalidParameter(key: "models", expected: "1 to \(Self.maxModels) models", found: "\(models.count)")
        }
        for (i, model) in models.enumerated() {
            try model.validate(path: "models[\(model.id)]")
            if i > 0, models[i - 1].id == model.id {
                throw .invalidParameter(key: "models", expected: "distinct model ids", found: "\"\(model.id)\" twice")
            }
        }
        if let initialModelID, model(initialModelID) == nil {
            throw .invalidParameter(key: "initial_model", expected: "the id of a listed model", found: "\"\(initialModelID)\"")
        }
        guard !genesisParticipants.isEmpty, genesisParticipants.count <= Self.maxGenesisParticipants else {
            throw .invalidParameter(key: "participants", expected: "1 to \(Self.maxGenesisParticipants) genesis participants", found: "\(genesisParticipants.count)")
        }
        var total: UInt64 = 0
        for (i, p) in genesisParticipants.enumerated() {
            if i > 0, genesisParticipants[i - 1].id == p.id {
                throw .invalidParameter(key: "participants", expected: "distinct participant ids", found: "\(p.id.hex) twice")
            }
            guard p.weight > 0 else {
                throw .invalidParameter(key: "participants[\(p.id.hex)].weight", expected: "a positive weight", found: "0")
            }
            let sum = total.addingReportingOverflow(p.weight)
            guard !sum.overflow, sum.partialValue <= WeightLimits.maxTotalWeight else {
                throw .invalidParameter(key: "participants", expected: "total weight at most \(WeightLimits.maxTotalWeight)", found: "more")
            }
            total = sum.partialValue
        }
        // Gonka's rule: below a majority, valid and invalid could both pass.
        guard !(voteThreshold < Ratio(millionths: 500_000)), voteThreshold.isBelowOne else {
            throw .invalidParameter(key: "vote_threshold", expected: "at least 1/2 and below 1", found: "\(voteThreshold)")
        }
        guard beaconMinRevealShare.isBelowOne else {
            throw .invalidParameter(key: "beacon.min_reveal_share", expected: "below 1", found: "\(beaconMinRevealShare)")
        }
        for (key, value) in [
            ("delegation.refusal_penalty", delegation.refusalPenalty), ("delegation.no_participation_penalty", delegation.noParticipationPenalty),
            ("delegation.delegation_share", delegation.delegationShare), ("caps.max_participant_share", caps.maxParticipantShare),
            ("caps.max_model_voting_power_share", caps.maxModelVotingPowerShare), ("confirmation.pass_ratio", confirmation.passRatio),
        ] where !value.isAtMostOne {
            throw .invalidParameter(key: key, expected: "a fraction between 0 and 1", found: "\(value)")
        }
        guard confirmation.windowsPerEpoch <= ConfirmationParameters.maxWindowsPerEpoch else {
            throw .invalidParameter(key: "confirmation.windows_per_epoch", expected: "0 up to \(ConfirmationParameters.maxWindowsPerEpoch)",
                                    found: "\(confirmation.windowsPerEpoch)")
        }
        guard confirmation.windowsPerEpoch == 0 || (confirmation.windowMs > 0 && confirmation.windowMs <= s.inferenceMs) else {
            throw .invalidParameter(key: "confirmation.window_ms", expected: "1 ms up to stages.inference_ms (\(s.inferenceMs))", found: "\(confirmation.windowMs)")
        }
    }
}

/// Bounds that keep every weight computation inside 128-bit integers.
public enum WeightLimits {
    /// At most 2^50 weight units in a table; products with any `Ratio` stay below 2^91.
    public static let maxTotalWeight: UInt64 = 1 << 50
    /// At most 2^40 artifacts in one commit (the deepest tree).
    public static let maxCount: UInt64 = 1 << 40
}

/// The network id alphabet of Specs/statements.md, checked without a statement in hand.
enum StatementCodecRules {
    static func isValidNetworkID(_ id: String) -> Bool {
        let utf8 = id.utf8
        return (1...SignedStatement.maxNetworkIDLength).contains(utf8.count)
            && utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e || $0 == 0x5f }
    }
}
