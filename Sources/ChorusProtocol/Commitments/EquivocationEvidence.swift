public import ChorusCrypto
public import ChorusWire

/// How two signed commits of one author contradict an append-only tree.
public enum EquivocationKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Two different commits with the same `seq`.
    case sameSeq = 1
    /// Two different roots for the same count.
    case sameCount = 2
    /// A higher `seq` with a lower count: counts must rise with `seq`.
    case countRegression = 3
    /// Different beacon seed bases: the tree would mix artifacts of two seeds.
    case seedBasisChange = 4

    public var description: String {
        switch self {
        case .sameSeq: return "two commits with the same seq"
        case .sameCount: return "two roots for the same count"
        case .countRegression: return "count falls while seq rises"
        case .seedBasisChange: return "seed basis changed"
        }
    }

    /// The first rule two commits of one (author, epoch, model) break, or nil if they are consistent.
    static func between(_ a: PoCCommit, _ b: PoCCommit) -> EquivocationKind? {
        guard a.statement.id != b.statement.id else { return nil }
        if a.seq == b.seq { return .sameSeq }
        if a.body.count == b.body.count, a.body.root != b.body.root { return .sameCount }
        if (a.seq < b.seq) != (a.body.count < b.body.count), a.body.count != b.body.count { return .countRegression }
        if a.body.seedBasis != b.body.seedBasis { return .seedBasisChange }
        return nil
    }
}

/// A proven equivocation: who, when, for which model, and how.
public struct Equivocation: Sendable, Hashable {
    public let author: Bytes32
    public let epoch: UInt64
    public let model: String
    public let kind: EquivocationKind
}

/// `equivocation-evidence`: two conflicting `poc-commit` statements of one author, exactly as
/// signed. Anyone can check it with nothing but the two signatures, so any node may gossip it
/// and every node penalizes the author the same way.
public struct EquivocationEvidenceBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.equivocationEvidence
    public static let version: UInt8 = 1
    public static let maxStatementLength = 200_000

    /// The encoded statement with the smaller message id.
    public let first: [UInt8]
    public let second: [UInt8]

    /// Puts the two statements in canonical order (ascending message id).
    public init(_ a: SignedStatement, _ b: SignedStatement) {
        (first, second) = a.id < b.id ? (a.encoded, b.encoded) : (b.encoded, a.encoded)
    }

    /// Decodes and verifies both statements and returns the equivocation they prove; throws if
    /// they are not two valid, conflicting commits by one author for one epoch and model.
    public func verify(networkID: String) throws(ProtocolError) -> Equivocation {
        let policy = StatementPolicy(networkID: networkID, allowedTypes: [.pocCommit])
        let a: SignedStatement
        let b: SignedStatement
        do {
            a = try SignedStatement.decode(first, policy: policy)
            b = try SignedStatement.decode(second, policy: policy)
        } catch {
            throw .invalidEvidence(reason: "a statement does not verify: \(error.description)")
        }
        guard a.id < b.id else { throw .invalidEvidence(reason: "statements are not two distinct ones in ascending id order") }
        guard a.author == b.author else { throw .invalidEvidence(reason: "statements have different authors") }
        guard a.epoch == b.epoch else { throw .invalidEvidence(reason: "statements belong to epochs \(a.epoch) and \(b.epoch)") }
        let ca = try PoCCommit(unchecked: a)
        let cb = try PoCCommit(unchecked: b)
        guard ca.body.model == cb.body.model else { throw .invalidEvidence(reason: "commits are for different models") }
        guard let kind = EquivocationKind.between(ca, cb) else {
            throw .invalidEvidence(reason: "the two commits are consistent (counts rise with seq, one root per count)")
        }
        return Equivocation(author: a.author.raw, epoch: a.epoch, model: ca.body.model, kind: kind)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeBytes(first)
        writer.writeBytes(second)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "equivocation-evidence.version")
        guard version == Self.version else { throw .unknownVersion(what: "equivocation-evidence", version: Int(version), highestKnown: Int(Self.version)) }
        first = Array(try reader.readBytes(field: "equivocation-evidence.first", maxLength: Self.maxStatementLength))
        second = Array(try reader.readBytes(field: "equivocation-evidence.second", maxLength: Self.maxStatementLength))
    }
}
