public import ChorusCrypto
public import ChorusWire

/// A validator's work order: fetch the proofs of `indices` of `commit` from its author, verify
/// them, recompute the artifacts with `generationSeed`, and report the mismatches with
/// `EpochEngine.onValidationResult`.
public struct ValidationTask: Sendable, Hashable {
    public let commit: PoCCommit
    /// The seed the prover's artifacts must have been computed with (its commit's seed basis).
    public let generationSeed: Bytes32
    /// Dense leaf indices to check, in draw order.
    public let indices: [UInt64]
}

/// What the shell must do for the engine. Directives carry everything needed; the engine has
/// already updated its own state as if they succeeded (published statements are in its store).
public enum EngineDirective: Sendable {
    /// Gossip (and persist) a statement this node signed.
    case publish(SignedStatement)
    /// Run PoC for `model` with `seed` until `until` (ms since 1970); report artifacts with `onArtifacts`.
    case startGeneration(epoch: UInt64, model: String, seed: Bytes32, until: Int64)
    case stopGeneration(epoch: UInt64, model: String)
    /// Run PoC for `model` with the confirmation window's `seed` until `until` (the window's end
    /// plus `Configuration.confirmationGraceMs`);
    /// report artifacts with `onConfirmationArtifacts`.
    case startConfirmation(epoch: UInt64, window: UInt32, model: String, seed: Bytes32, until: Int64)
    case validate(ValidationTask)
    /// This node's table for the epoch (recomputed when late statements arrive).
    case tableComputed(WeightTable)
    /// A table became final with this certificate; it is the base of the next epoch.
    case tableFinal(WeightTable, Certificate)
    /// The final digest differs from this node's own table: reconcile the epoch's statements.
    case divergence(epoch: UInt64, own: Bytes32, final: Bytes32)
    /// A confirmation PoC window of the epoch's inference stage (agreed seed's sub-seed `confirmation`).
    case confirmationWindow(epoch: UInt64, window: ConfirmationPoC.Window)
    /// The engine could not do its part in the epoch (e.g. no final previous table).
    case skipped(epoch: UInt64, reason: String)
}
