/// What a receiver accepts beyond well-formedness and a valid signature. Checked before the
/// signature, so statements of another network or an unwanted type cost no verification.
public struct StatementPolicy: Sendable, Equatable {
    /// When set, statements of any other network are refused with `wrongNetwork`.
    public var networkID: String?
    /// When set, statements of any other type are refused with `unknownType`.
    public var allowedTypes: Set<StatementType>?

    public init(networkID: String? = nil, allowedTypes: Set<StatementType>? = nil) {
        self.networkID = networkID
        self.allowedTypes = allowedTypes
    }

    /// Any network, any well-formed type.
    public static let any = StatementPolicy()

    /// Any network, only the types this build defines (`StatementType.builtIn`).
    public static let knownTypesOnly = StatementPolicy(allowedTypes: StatementType.builtIn)

    func check(networkID: String, type: StatementType) throws(WireError) {
        if let expected = self.networkID, expected != networkID {
            throw .wrongNetwork(expected: expected, got: networkID)
        }
        if let allowed = allowedTypes, !allowed.contains(type) {
            throw .unknownType(type.name)
        }
    }
}
