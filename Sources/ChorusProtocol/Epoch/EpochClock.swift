/// The stages of an epoch, in order (Specs/epochs.md).
public enum EpochStage: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Beacon reveals, then PoC generation; store commits are gossiped.
    case generation = 0
    /// Validators sample, fetch proofs, recompute and vote.
    case validation = 1
    /// Votes are tallied, the weight table computed and its digest signed.
    case tally = 2
    /// Serving inference, with confirmation PoC windows; beacon commitments for the next epoch.
    case inference = 3

    public var description: String {
        switch self {
        case .generation: return "generation"
        case .validation: return "validation"
        case .tally: return "tally"
        case .inference: return "inference"
        }
    }
}

/// Where a moment falls in the epoch schedule.
public struct EpochPosition: Sendable, Hashable, CustomStringConvertible {
    /// Epoch number, 1 at genesis.
    public let epoch: UInt64
    public let stage: EpochStage
    /// Milliseconds since the start of the epoch.
    public let offsetMs: UInt64
    /// Milliseconds since the start of the stage.
    public let stageOffsetMs: UInt64
    /// Milliseconds until the stage ends.
    public let stageRemainingMs: UInt64

    public var description: String { "epoch \(epoch) \(stage) +\(stageOffsetMs) ms (\(stageRemainingMs) ms left)" }
}

/// The epoch schedule as a pure function of time: epoch 1 starts at genesis and every epoch has
/// the same four stages. No clock is read here; the caller passes `unixMs`.
public struct EpochClock: Sendable, Hashable {
    public let genesisUnixMs: Int64
    public let stages: StageDurations

    public init(genesisUnixMs: Int64, stages: StageDurations) {
        self.genesisUnixMs = genesisUnixMs
        self.stages = stages
    }

    public init(_ parameters: NetworkParameters) {
        self.init(genesisUnixMs: parameters.genesisUnixMs, stages: parameters.stages)
    }

    public var epochMs: UInt64 { stages.epochMs }

    /// The epoch, stage and offsets at `unixMs`; throws before genesis.
    public func position(atUnixMs unixMs: Int64) throws(ProtocolError) -> EpochPosition {
        guard unixMs >= genesisUnixMs else { throw .beforeGenesis(unixMs: unixMs, genesisUnixMs: genesisUnixMs) }
        guard epochMs > 0 else { throw .invalidParameter(key: "stages", expected: "a positive epoch length", found: "0 ms") }
        let difference = unixMs.subtractingReportingOverflow(genesisUnixMs)
        guard !difference.overflow else { throw .invalidParameter(key: "genesis_time", expected: "a time within 2^63 ms of \(unixMs)", found: "\(genesisUnixMs)") }
        let elapsed = UInt64(difference.partialValue)
        let epoch = elapsed / epochMs + 1
        let offset = elapsed % epochMs
        var stageStart: UInt64 = 0
        for stage in EpochStage.allCases {
            let length = duration(of: stage)
            if offset < stageStart + length {
                return EpochPosition(
                    epoch: epoch, stage: stage, offsetMs: offset, stageOffsetMs: offset - stageStart,
                    stageRemainingMs: stageStart + length - offset)
            }
            stageStart += length
        }
        // Unreachable: the stage lengths add up to epochMs and offset < epochMs.
        return EpochPosition(epoch: epoch, stage: .inference, offsetMs: offset, stageOffsetMs: 0, stageRemainingMs: 0)
    }

    public func duration(of stage: EpochStage) -> UInt64 {
        switch stage {
        case .generation: return stages.generationMs
        case .validation: return stages.validationMs
        case .tally: return stages.tallyMs
        case .inference: return stages.inferenceMs
        }
    }

    /// When `stage` of `epoch` (≥ 1) starts, in milliseconds since 1970.
    public func start(of stage: EpochStage, epoch: UInt64) -> Int64 {
        precondition(epoch >= 1, "epochs are numbered from 1")
        var offset = (epoch - 1) * epochMs
        for earlier in EpochStage.allCases where earlier.rawValue < stage.rawValue { offset += duration(of: earlier) }
        return genesisUnixMs + Int64(offset)
    }

    /// When `stage` of `epoch` ends (the next stage's start).
    public func end(of stage: EpochStage, epoch: UInt64) -> Int64 {
        start(of: stage, epoch: epoch) + Int64(duration(of: stage))
    }

    /// End of the beacon reveal window: PoC generation of `epoch` runs from here to the end of generation.
    public func revealDeadline(epoch: UInt64) -> Int64 {
        start(of: .generation, epoch: epoch) + Int64(stages.beaconRevealMs)
    }
}
