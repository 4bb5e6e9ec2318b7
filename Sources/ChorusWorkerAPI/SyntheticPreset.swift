public import ChorusCrypto

/// The synthetic models a worker builds by name: `synthetic.preset` of a load request
/// (Specs/worker.md §4.1, Specs/poc-kernel.md §9). A client checks a name here without linking the
/// engine; ChorusCompute maps each case to its configuration (`SyntheticPreset.config`), so a
/// preset added here must be given one there.
public enum SyntheticPreset: String, CaseIterable, Sendable {
    case tiny
    case devnet

    /// The seed the devnet and the test vectors use: bytes 00 01 … 1f.
    public static let devnetSeed = Bytes32(Array(0..<32).map { UInt8($0) })!
}
