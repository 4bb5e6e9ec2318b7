/// The type name of a signed statement: 1 to 32 characters of `[a-z0-9-]`.
///
/// The name is part of the signature's domain (`"chorus/v1/" + type + 0x00`), so a signature made
/// for one type never verifies as another. Types this build does not know are still representable:
/// a node relays and stores them unless the caller's `StatementPolicy` restricts types.
public struct StatementType: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let maxLength = 32

    public let name: String

    /// Validates `name` (1...32 characters of `[a-z0-9-]`).
    public init(_ name: String) throws(WireError) {
        guard Self.isValidName(name.utf8) else {
            throw .invalidValue(field: "statement.type", reason: Self.rule(for: name.utf8.count, name: name))
        }
        self.name = name
    }

    /// For names already checked with `isValidName` (and the constants below).
    init(validated name: String) { self.name = name }

    public static func isValidName<C: Collection>(_ utf8: C) -> Bool where C.Element == UInt8 {
        (1...maxLength).contains(utf8.count) && utf8.allSatisfy(isNameByte)
    }

    static func rule(for length: Int, name: String) -> String {
        "a type name is 1 to \(maxLength) characters of a-z, 0-9 and '-', got \"\(name)\" (\(length) bytes)"
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2d
    }

    public var description: String { name }

    public static func < (a: StatementType, b: StatementType) -> Bool { a.name < b.name }

    // MARK: Types of this protocol version

    /// A node's signed addresses, roles and served models.
    public static let peerRecord = StatementType(validated: "peer-record")
    /// A Proof-of-Compute store commitment (Merkle root and count).
    public static let pocCommit = StatementType(validated: "poc-commit")
    /// A confirmation PoC reading: the Merkle root and count of one window's artifacts.
    public static let confirmationCommit = StatementType(validated: "confirmation-commit")
    /// A validator's vote on a participant's PoC (a `poc-commit` or a `confirmation-commit`).
    public static let vote = StatementType(validated: "vote")
    /// A delegation of voting power for a model.
    public static let delegation = StatementType(validated: "delegation")
    /// A signature over an epoch's weight-table digest.
    public static let certificateSignature = StatementType(validated: "certificate-signature")
    /// A beacon commitment `H(r)`.
    public static let beaconCommit = StatementType(validated: "beacon-commit")
    /// A beacon reveal `r`.
    public static let beaconReveal = StatementType(validated: "beacon-reveal")
    /// Free text, for tests, tooling and operator notes.
    public static let text = StatementType(validated: "text")

    /// Every type this build defines; pass it as `StatementPolicy.allowedTypes` to refuse others.
    public static let builtIn: Set<StatementType> = [
        .peerRecord, .pocCommit, .confirmationCommit, .vote, .delegation, .certificateSignature, .beaconCommit, .beaconReveal, .text,
    ]
}
