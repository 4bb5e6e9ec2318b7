public import ChorusCrypto
public import ChorusWire

/// Every `poc-commit` of one epoch, checked against the rules of Specs/poc-commitments.md §5:
/// per (author, model) counts rise strictly with `seq`, one root per count, one seed basis. A
/// commit that breaks a rule against any earlier one yields evidence to gossip, and the author's
/// entry for that model is void for the epoch.
public struct CommitLedger: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// A new commit, now the latest of its (author, model) if its seq is the highest.
        case accepted
        /// Already known (same statement), or the same root and count again: nothing changes.
        case redundant
        /// The commit contradicts an earlier one; gossip the evidence.
        case equivocation(Equivocation, EquivocationEvidenceBody)
    }

    public struct Key: Hashable, Sendable, Comparable {
        public let author: Bytes32
        public let model: String

        public static func < (a: Key, b: Key) -> Bool {
            a.author != b.author ? a.author < b.author : Array(a.model.utf8).lexicographicallyPrecedes(Array(b.model.utf8))
        }
    }

    /// Commits kept per (author, model); a flood beyond it is refused.
    public static let maxCommitsPerKey = 4096

    public let parameters: NetworkParameters
    public let epoch: UInt64
    private var commits: [Key: [PoCCommit]] = [:]
    public private(set) var equivocations: [Key: Equivocation] = [:]

    public init(parameters: NetworkParameters, epoch: UInt64) {
        self.parameters = parameters
        self.epoch = epoch
    }

    /// Adds a verified `poc-commit` statement of this epoch.
    public mutating func add(_ statement: SignedStatement) throws(ProtocolError) -> Outcome {
        guard statement.epoch == epoch else {
            throw .invalidStatement(type: "poc-commit", reason: "signed for epoch \(statement.epoch), this ledger is epoch \(epoch)")
        }
        let commit = try PoCCommit(statement, parameters: parameters)
        let key = Key(author: commit.author, model: commit.body.model)
        var list = commits[key] ?? []
        if list.contains(where: { $0.statement.id == statement.id }) { return .redundant }
        for earlier in list {
            if let kind = EquivocationKind.between(earlier, commit) {
                let proven = Equivocation(author: key.author, epoch: epoch, model: key.model, kind: kind)
                equivocations[key] = equivocations[key] ?? proven
                return .equivocation(proven, EquivocationEvidenceBody(earlier.statement, statement))
            }
        }
        guard list.count < Self.maxCommitsPerKey else {
            throw .invalidStatement(type: "poc-commit", reason: "more than \(Self.maxCommitsPerKey) commits by \(key.author.hex) for \(key.model) in epoch \(epoch)")
        }
        let redundant = list.contains { $0.body.count == commit.body.count }
        list.append(commit)
        commits[key] = list
        return redundant ? .redundant : .accepted
    }

    /// Records evidence received from others (after `verify`), so the author's entry is void
    /// even if this node never saw both commits.
    public mutating func add(evidence: Equivocation) throws(ProtocolError) {
        guard evidence.epoch == epoch else {
            throw .invalidEvidence(reason: "evidence for epoch \(evidence.epoch), this ledger is epoch \(epoch)")
        }
        let key = Key(author: evidence.author, model: evidence.model)
        equivocations[key] = equivocations[key] ?? evidence
    }

    public func isEquivocator(author: Bytes32, model: String) -> Bool {
        equivocations[Key(author: author, model: model)] != nil
    }

    /// The commit with the highest seq of (author, model), or nil if none or if the author equivocated.
    public func latest(author: Bytes32, model: String) -> PoCCommit? {
        let key = Key(author: author, model: model)
        guard equivocations[key] == nil else { return nil }
        return commits[key]?.max { $0.seq < $1.seq }
    }

    /// The latest commit of every non-equivocating author for `model`, sorted by author.
    public func latestCommits(model: String) -> [PoCCommit] {
        commits.keys.filter { $0.model == model }.sorted().compactMap { latest(author: $0.author, model: $0.model) }
    }

    /// The commit with message id `id`, if this ledger holds it.
    public func commit(id: Bytes32) -> PoCCommit? {
        for list in commits.values {
            if let found = list.first(where: { $0.statement.id == id }) { return found }
        }
        return nil
    }

    /// Every (author, model) with a proven equivocation, sorted.
    public var equivocators: [Key] { equivocations.keys.sorted() }

    /// Authors that committed for `model` this epoch (equivocators included): they are DIRECT.
    public func committers(model: String) -> Set<Bytes32> {
        Set(commits.keys.filter { $0.model == model }.map(\.author)).union(equivocations.keys.filter { $0.model == model }.map(\.author))
    }
}
