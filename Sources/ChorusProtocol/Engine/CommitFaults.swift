/// Misbehaviour a devnet engine can be told to show when it signs PoC commits, so tests and
/// devnets can check that the network catches it (`chorusd run --fault inflate-counts|equivocate`,
/// refused on non-dev networks by the shell). Honest nodes use the default: no faults.
public struct CommitFaults: Sendable, Equatable {
    /// Claim twice the artifacts the tree holds (the root stays the real one), so no proof can
    /// verify against the commit and validators vote it invalid.
    public var inflateCounts = false
    /// Sign a second commit with the same count and a different root after each honest one:
    /// anyone holding both proves the equivocation and the author's entry is void.
    public var equivocate = false

    public init(inflateCounts: Bool = false, equivocate: Bool = false) {
        self.inflateCounts = inflateCounts
        self.equivocate = equivocate
    }
}
