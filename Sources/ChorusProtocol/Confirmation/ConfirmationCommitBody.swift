public import ChorusCrypto
public import ChorusWire

/// `confirmation-commit`: a participant's reading of one confirmation window (Specs/epochs.md §4):
/// the root and count of the sparse Merkle sum tree of the artifacts it computed for `model` in
/// window `window` of the statement's epoch, with that window's seed. One per (author, window,
/// model); two different ones make that reading zero.
public struct ConfirmationCommitBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.confirmationCommit
    public static let version: UInt8 = 1

    /// Index of the window in the epoch's list (`ConfirmationPoC.windows`, by start).
    public var window: UInt32
    public var model: String
    public var count: UInt64
    public var root: Bytes32
    public var depth: UInt8

    public init(window: UInt32, model: String, count: UInt64, root: Bytes32, depth: UInt8) {
        self.window = window
        self.model = model
        self.count = count
        self.root = root
        self.depth = depth
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeU32(window)
        writer.writeString(model)
        writer.writeU64(count)
        writer.writeBytes32(root)
        writer.writeU8(depth)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "confirmation-commit.version")
        guard version == Self.version else {
            throw .unknownVersion(what: "confirmation-commit", version: Int(version), highestKnown: Int(Self.version))
        }
        window = try reader.readU32(field: "confirmation-commit.window")
        model = try reader.readString(field: "confirmation-commit.model", maxLength: ModelParameters.maxIDLength)
        guard !model.isEmpty else { throw .invalidValue(field: "confirmation-commit.model", reason: "empty model id") }
        count = try reader.readU64(field: "confirmation-commit.count")
        root = try reader.readBytes32(field: "confirmation-commit.root")
        depth = try reader.readU8(field: "confirmation-commit.depth")
        guard (1...ModelParameters.maxTreeDepth).contains(depth) else {
            throw .invalidValue(field: "confirmation-commit.depth", reason: "must be 1...\(ModelParameters.maxTreeDepth), got \(depth)")
        }
        guard count >= 1, count <= UInt64(1) << UInt64(depth) else {
            throw .invalidValue(field: "confirmation-commit.count", reason: "\(count) leaves: must be 1 up to 2^depth")
        }
    }
}

/// A `confirmation-commit` statement with its decoded body, checked against the network.
public struct ConfirmationCommit: Sendable, Hashable {
    public let statement: SignedStatement
    public let body: ConfirmationCommitBody

    public var author: Bytes32 { statement.author.raw }
    public var epoch: UInt64 { statement.epoch }

    public init(_ statement: SignedStatement, parameters: NetworkParameters) throws(ProtocolError) {
        let body = try BeaconRound.decode(statement, as: ConfirmationCommitBody.self)
        try PoCCommit.checkTree(type: "confirmation-commit", model: body.model, depth: body.depth, count: body.count, parameters: parameters)
        guard body.window < parameters.confirmation.windowsPerEpoch else {
            throw .invalidStatement(type: "confirmation-commit",
                                    reason: "window \(body.window), the network has \(parameters.confirmation.windowsPerEpoch) per epoch")
        }
        self.statement = statement
        self.body = body
    }

    /// The reading as the commit validation works on: a confirmation tree is sampled, proven,
    /// recomputed and voted on exactly like a generation tree (same `vote` statement naming this
    /// statement's id), so validators, provers and the vote checks share one path. The seed basis
    /// is empty: the window's seed comes from the epoch's agreed seed (`ConfirmationPoC.windowSeed`).
    public var asTreeCommit: PoCCommit {
        PoCCommit(tree: statement, body: PoCCommitBody(model: body.model, count: body.count, root: body.root, depth: body.depth, seedBasis: []))
    }
}
