extension StatementType {
    /// Two conflicting signed statements of one author (e.g. two PoC commits with different roots
    /// for the same count), gossiped as evidence; anyone can verify it from the two signatures.
    public static let equivocationEvidence = StatementType(validated: "equivocation-evidence")
}
