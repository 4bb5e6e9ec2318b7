public import ChorusCrypto
public import ChorusWire

/// `poc-commit`: a store commitment to the artifacts a participant has computed so far for one
/// model in the statement's epoch (Specs/poc-commitments.md §4). The envelope carries the epoch,
/// the author and `seq`; commits of one (author, epoch, model) must rise in count as `seq` rises.
public struct PoCCommitBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.pocCommit
    public static let version: UInt8 = 1
    public static let maxSeedBasis = 4096

    public var model: String
    public var count: UInt64
    public var root: Bytes32
    public var depth: UInt8
    /// Sorted authors of the beacon reveals the prover's generation seed is built from.
    public var seedBasis: [Bytes32]

    public init(model: String, count: UInt64, root: Bytes32, depth: UInt8, seedBasis: [Bytes32]) {
        self.model = model
        self.count = count
        self.root = root
        self.depth = depth
        self.seedBasis = seedBasis.sorted()
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeString(model)
        writer.writeU64(count)
        writer.writeBytes32(root)
        writer.writeU8(depth)
        writer.writeArray(seedBasis) { $0.writeBytes32($1) }
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "poc-commit.version")
        guard version == Self.version else { throw .unknownVersion(what: "poc-commit", version: Int(version), highestKnown: Int(Self.version)) }
        model = try reader.readString(field: "poc-commit.model", maxLength: ModelParameters.maxIDLength)
        guard !model.isEmpty else { throw .invalidValue(field: "poc-commit.model", reason: "empty model id") }
        count = try reader.readU64(field: "poc-commit.count")
        root = try reader.readBytes32(field: "poc-commit.root")
        depth = try reader.readU8(field: "poc-commit.depth")
        guard (1...ModelParameters.maxTreeDepth).contains(depth) else {
            throw .invalidValue(field: "poc-commit.depth", reason: "must be 1...\(ModelParameters.maxTreeDepth), got \(depth)")
        }
        guard count <= UInt64(1) << UInt64(depth) else {
            throw .invalidValue(field: "poc-commit.count", reason: "\(count) leaves cannot fit a tree of depth \(depth)")
        }
        seedBasis = try reader.readArray(field: "poc-commit.seed_basis", maxCount: Self.maxSeedBasis, minElementSize: 32) {
            (r: inout WireReader) throws(WireError) in try r.readBytes32(field: "poc-commit.seed_basis")
        }
        try WireReader.requireStrictlyAscending(seedBasis, field: "poc-commit.seed_basis")
    }
}

/// A `poc-commit` statement with its decoded body.
public struct PoCCommit: Sendable, Hashable {
    public let statement: SignedStatement
    public let body: PoCCommitBody

    public var author: Bytes32 { statement.author.raw }
    public var epoch: UInt64 { statement.epoch }
    public var seq: UInt64 { statement.seq }

    /// Decodes the body and checks it against the network's model list.
    public init(_ statement: SignedStatement, parameters: NetworkParameters) throws(ProtocolError) {
        let body = try BeaconRound.decode(statement, as: PoCCommitBody.self)
        try Self.checkTree(type: "poc-commit", model: body.model, depth: body.depth, count: body.count, parameters: parameters)
        self.statement = statement
        self.body = body
    }

    /// The network's rules for any committed tree (`poc-commit`, `confirmation-commit`): an approved
    /// model, its tree depth, and a count within `WeightLimits.maxCount`.
    static func checkTree(type: String, model id: String, depth: UInt8, count: UInt64, parameters: NetworkParameters) throws(ProtocolError) {
        guard let model = parameters.model(id) else {
            throw .invalidStatement(type: type, reason: "model \"\(id)\" is not approved on this network")
        }
        guard depth == model.treeDepth else {
            throw .invalidStatement(type: type, reason: "tree depth \(depth), the network fixes \(model.treeDepth) for \(model.id)")
        }
        guard count <= WeightLimits.maxCount else {
            throw .invalidStatement(type: type, reason: "count \(count) exceeds \(WeightLimits.maxCount)")
        }
    }

    /// A committed tree signed by another statement type (`ConfirmationCommit.asTreeCommit`).
    init(tree statement: SignedStatement, body: PoCCommitBody) {
        self.statement = statement
        self.body = body
    }

    /// Decodes without parameter checks (for evidence, which must be verifiable on its own).
    init(unchecked statement: SignedStatement) throws(ProtocolError) {
        self.statement = statement
        self.body = try BeaconRound.decode(statement, as: PoCCommitBody.self)
    }
}
