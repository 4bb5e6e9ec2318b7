public import ChorusCrypto
public import ChorusWire

/// `beacon-commit`: a participant's commitment `C = H(domain ‖ network ‖ author ‖ epoch ‖ r)` to
/// a secret `r` for the beacon of `targetEpoch`. Published during epoch `targetEpoch − 1`, before
/// any reveal of that round, so that no reveal can depend on another.
public struct BeaconCommitBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.beaconCommit
    public static let version: UInt8 = 1

    public var targetEpoch: UInt64
    public var commitment: Bytes32

    public init(targetEpoch: UInt64, commitment: Bytes32) {
        self.targetEpoch = targetEpoch
        self.commitment = commitment
    }

    /// The commitment to `reveal`. Binding the author and network stops a participant from
    /// copying another's commitment and later its reveal.
    public static func commitment(networkID: String, author: Bytes32, targetEpoch: UInt64, reveal: Bytes32) -> Bytes32 {
        var w = WireWriter()
        w.writeRaw(Array("chorus/beacon/commit/1\0".utf8))
        w.writeString(networkID)
        w.writeBytes32(author)
        w.writeU64(targetEpoch)
        w.writeBytes32(reveal)
        return Blake2b.hash256(w.bytes)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeU64(targetEpoch)
        writer.writeBytes32(commitment)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "beacon-commit.version")
        guard version == Self.version else { throw .unknownVersion(what: "beacon-commit", version: Int(version), highestKnown: Int(Self.version)) }
        targetEpoch = try reader.readU64(field: "beacon-commit.target_epoch")
        commitment = try reader.readBytes32(field: "beacon-commit.commitment")
    }
}

/// `beacon-reveal`: the secret `r` behind a `beacon-commit`, published in the reveal window at the
/// start of `targetEpoch`'s generation stage.
public struct BeaconRevealBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.beaconReveal
    public static let version: UInt8 = 1

    public var targetEpoch: UInt64
    public var reveal: Bytes32

    public init(targetEpoch: UInt64, reveal: Bytes32) {
        self.targetEpoch = targetEpoch
        self.reveal = reveal
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeU64(targetEpoch)
        writer.writeBytes32(reveal)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "beacon-reveal.version")
        guard version == Self.version else { throw .unknownVersion(what: "beacon-reveal", version: Int(version), highestKnown: Int(Self.version)) }
        targetEpoch = try reader.readU64(field: "beacon-reveal.target_epoch")
        reveal = try reader.readBytes32(field: "beacon-reveal.reveal")
    }
}
