import Foundation
internal import ChorusTOML
import ChorusCrypto
public import ChorusProtocol

/// Loads `Network/<name>/network.toml` into `NetworkParameters`. The layout is in
/// Specs/network-file.md; every error names the file, the key and what was expected.
public enum NetworkFile {
    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(NetworkFileError) -> NetworkParameters {
        try loadDocument(path: path).parameters
    }

    /// Parses network-file text; `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws(NetworkFileError) -> NetworkParameters {
        try parseDocument(text, file: file).parameters
    }

    /// Reads the file at `path`: the consensus parameters and the bootstrap settings.
    public static func loadDocument(path: String) throws(NetworkFileError) -> (parameters: NetworkParameters, bootstrap: NetworkBootstrap) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw NetworkFileError(file: path, key: "", expected: "a readable UTF-8 file", found: "\(error.localizedDescription)")
        }
        return try parseDocument(text, file: path)
    }

    /// Parses network-file text into the consensus parameters and the bootstrap settings.
    public static func parseDocument(_ text: String, file: String) throws(NetworkFileError)
        -> (parameters: NetworkParameters, bootstrap: NetworkBootstrap) {
        let table: TOMLTable
        do { table = try TOMLParser.parse(text) } catch {
            throw NetworkFileError(file: "\(file):\(error.line):\(error.column)", key: "", expected: "valid TOML", found: error.reason)
        }
        var root = TOMLFields(table, path: "", file: file)
        let networkID = try root.string("network_id")
        let genesis = try root.unixMs("genesis_time")
        let voteThreshold = try root.ratio("vote_threshold")
        let initialModel = try root.optionalString("initial_model")
        let seeds = try root.optionalStrings("seeds") ?? []
        for (i, seed) in seeds.enumerated() where !NetworkBootstrap.isHostPort(seed) {
            throw root.error("seeds[\(i)]", expected: "\"a.b.c.d:port\" or \"[v6]:port\" with a port of 1-65535", found: "\"\(seed)\"")
        }
        let bootstrap = NetworkBootstrap(seeds: seeds, allowPrivateAddresses: try root.optionalBool("allow_private_addresses") ?? false)

        var stagesTable = try root.table("stages")
        let stages = StageDurations(
            generationMs: try stagesTable.unsigned("generation_ms"), validationMs: try stagesTable.unsigned("validation_ms"),
            tallyMs: try stagesTable.unsigned("tally_ms"), inferenceMs: try stagesTable.unsigned("inference_ms"),
            beaconRevealMs: try stagesTable.unsigned("beacon_reveal_ms"))
        let reference = stagesTable.has("reference_generation_ms") ? try stagesTable.unsigned("reference_generation_ms") : stages.generationMs
        try stagesTable.finish()

        var models: [ModelParameters] = []
        for var m in try root.tableArray("models") {
            let kDim = m.has("k_dim") ? try m.unsigned("k_dim", max: UInt64(UInt32.max)) : UInt64(ModelParameters.requiredKDim)
            models.append(ModelParameters(
                id: try m.string("id"), digest: try m.string("digest"),
                seqLen: UInt32(try m.unsigned("seq_len", max: UInt64(UInt32.max))), kDim: UInt32(kDim),
                distThreshold: try m.ratio("dist_threshold"), pMismatch: try m.ratio("p_mismatch"),
                pValueThreshold: try m.ratio("p_value_threshold"),
                sampleSize: UInt32(try m.unsigned("sample_size", max: UInt64(UInt32.max))),
                weightScaleFactor: try m.ratio("weight_scale_factor"),
                penaltyStartEpoch: try m.unsigned("penalty_start_epoch"),
                treeDepth: m.has("tree_depth") ? UInt8(try m.unsigned("tree_depth", max: 255)) : 24))
            try m.finish()
        }

        var participants: [GenesisParticipant] = []
        for var p in try root.tableArray("participants") {
            let hex = try p.string("id")
            guard let id = try? Bytes32(hex: hex) else {
                throw p.error("id", expected: "an Ed25519 public key as 64 hex digits", found: "\"\(hex)\"")
            }
            participants.append(GenesisParticipant(id: id, weight: try p.unsigned("weight")))
            try p.finish()
        }

        var beacon = try root.table("beacon")
        let minRevealShare = try beacon.ratio("min_reveal_share")
        try beacon.finish()

        var delegationTable = try root.table("delegation")
        let delegation = DelegationParameters(
            refusalPenalty: try delegationTable.ratio("refusal_penalty"),
            noParticipationPenalty: try delegationTable.ratio("no_participation_penalty"),
            delegationShare: try delegationTable.ratio("delegation_share"))
        try delegationTable.finish()

        var capsTable = try root.table("caps")
        let caps = CapParameters(
            groupCapFactor: try capsTable.ratio("group_cap_factor"), maxParticipantShare: try capsTable.ratio("max_participant_share"),
            maxModelVotingPowerShare: try capsTable.ratio("max_model_voting_power_share"))
        try capsTable.finish()

        var confirmationTable = try root.table("confirmation")
        let confirmation = ConfirmationParameters(
            windowsPerEpoch: UInt32(try confirmationTable.unsigned("windows_per_epoch", max: UInt64(UInt32.max))),
            windowMs: try confirmationTable.unsigned("window_ms"), passRatio: try confirmationTable.ratio("pass_ratio"))
        try confirmationTable.finish()
        try root.finish()

        do {
            return (try NetworkParameters(
                networkID: networkID, genesisUnixMs: genesis, stages: stages, referenceGenerationMs: reference,
                genesisParticipants: participants, models: models, initialModelID: initialModel, voteThreshold: voteThreshold,
                beaconMinRevealShare: minRevealShare, delegation: delegation, caps: caps, confirmation: confirmation), bootstrap)
        } catch {
            switch error {
            case let .invalidParameter(key, expected, found):
                throw NetworkFileError(file: file, key: key, expected: expected, found: found)
            default:
                throw NetworkFileError(file: file, key: "", expected: "consistent parameters", found: error.description)
            }
        }
    }
}
