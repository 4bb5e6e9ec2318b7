public import ChorusCrypto

/// What a node following epochs says about its network file in the handshake (identity proof
/// extension type 2, Specs/transport.md §2): the parameters digest and the genesis time.
///
/// The Noise prologue binds only the network id, so two nodes with the same id but different
/// network files (a devnet restarted with a new genesis, an operator's stale copy) completed the
/// handshake and then disagreed on every epoch, which they reported only as differing weight
/// tables. With this claim each side sees the difference at once and can name it.
public struct NetworkParametersClaim: Sendable, Equatable {
    public var parametersDigest: Bytes32
    public var genesisUnixMs: Int64

    public init(parametersDigest: Bytes32, genesisUnixMs: Int64) {
        self.parametersDigest = parametersDigest
        self.genesisUnixMs = genesisUnixMs
    }

    /// `parameters_digest (32) ‖ genesis_unix_ms (i64 big-endian)`.
    public var encoded: [UInt8] {
        parametersDigest.bytes + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: genesisUnixMs) >> (56 - 8 * $0)) }
    }

    /// Nil unless exactly 40 bytes (a value of another length is ignored, as an unknown extension).
    public init?(encoded value: [UInt8]) {
        guard value.count == 40, let digest = Bytes32(value[0..<32]) else { return nil }
        parametersDigest = digest
        genesisUnixMs = Int64(bitPattern: value[32..<40].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// The extension entry for an identity proof.
    public var proofExtension: (type: UInt8, value: [UInt8]) { (IdentityProof.networkParametersExtension, encoded) }
}

extension IdentityProof {
    /// Extension type 2: the sender's `NetworkParametersClaim`, sent by nodes that follow epochs.
    public static let networkParametersExtension: UInt8 = 2

    /// The peer's network parameters claim, if it sent a well-formed one.
    public var networkParameters: NetworkParametersClaim? {
        extensions.first { $0.type == Self.networkParametersExtension }.flatMap { NetworkParametersClaim(encoded: $0.value) }
    }
}
