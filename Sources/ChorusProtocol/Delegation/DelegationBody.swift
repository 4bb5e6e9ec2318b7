public import ChorusCrypto
public import ChorusWire

/// What a participant declares for a model it does not serve itself (Specs/delegation.md).
public enum DelegationAction: Sendable, Hashable, CustomStringConvertible {
    /// Lend my voting power for the model to `target` (a member that serves it).
    case delegate(to: Bytes32)
    /// I neither serve nor delegate this model (costs `refusal_penalty`).
    case refuse
    /// I intend to serve this model (bootstrap signal; counts as NONE without a commit).
    case intent

    public var description: String {
        switch self {
        case let .delegate(target): return "delegate to \(target.hex.prefix(16))"
        case .refuse: return "refuse"
        case .intent: return "intent"
        }
    }
}

/// `delegation`: one declaration per (author, model); the highest `seq` wins. Takes effect in
/// the epoch after the one it is signed in.
public struct DelegationBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.delegation
    public static let version: UInt8 = 1

    public var model: String
    public var action: DelegationAction

    public init(model: String, action: DelegationAction) {
        self.model = model
        self.action = action
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeString(model)
        switch action {
        case let .delegate(target):
            writer.writeU8(1)
            writer.writeBytes32(target)
        case .refuse: writer.writeU8(2)
        case .intent: writer.writeU8(3)
        }
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "delegation.version")
        guard version == Self.version else { throw .unknownVersion(what: "delegation", version: Int(version), highestKnown: Int(Self.version)) }
        model = try reader.readString(field: "delegation.model", maxLength: ModelParameters.maxIDLength)
        guard !model.isEmpty else { throw .invalidValue(field: "delegation.model", reason: "empty model id") }
        switch try reader.readU8(field: "delegation.action") {
        case 1: action = .delegate(to: try reader.readBytes32(field: "delegation.target"))
        case 2: action = .refuse
        case 3: action = .intent
        case let tag: throw .invalidValue(field: "delegation.action", reason: "must be 1 (delegate), 2 (refuse) or 3 (intent), got \(tag)")
        }
    }
}
