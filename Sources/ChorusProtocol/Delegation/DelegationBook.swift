public import ChorusCrypto
public import ChorusWire

/// A participant's participation mode for one model in one epoch (Specs/delegation.md §2).
public enum ParticipationMode: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// It committed PoC for the model this epoch (overrides any declaration).
    case direct = 1
    /// It delegates to a DIRECT member with voting weight.
    case delegate = 2
    case refuse = 3
    /// Declared intent, no commit.
    case intent = 4
    /// No usable declaration (or a delegation whose target does not qualify).
    case none = 5

    public var description: String {
        switch self {
        case .direct: return "DIRECT"
        case .delegate: return "DELEGATE"
        case .refuse: return "REFUSE"
        case .intent: return "INTENT"
        case .none: return "NONE"
        }
    }
}

/// The resolved mode of a participant for a model; `target` is set for DELEGATE.
public struct ResolvedMode: Sendable, Hashable {
    public let mode: ParticipationMode
    public let target: Bytes32?

    public init(mode: ParticipationMode, target: Bytes32?) {
        self.mode = mode
        self.target = target
    }

    public static let nonParticipant = ResolvedMode(mode: .none, target: nil)
}

/// Every verified `delegation` statement, keeping per (author, model) the one with the highest
/// `seq` (ties broken by the larger message id, so every node keeps the same one).
public struct DelegationBook: Sendable {
    private struct Key: Hashable {
        let author: Bytes32
        let model: String
    }

    private struct Record {
        let epoch: UInt64
        let seq: UInt64
        let id: Bytes32
        let action: DelegationAction
    }

    private var latest: [Key: [Record]] = [:]

    public init() {}

    /// The rules every declaration obeys, checked both before signing one (`EpochEngine.declare`)
    /// and on receipt (`add`): the model is approved on the network, and nobody delegates to itself.
    public static func check(model: String, action: DelegationAction, author: Bytes32,
                             parameters: NetworkParameters) throws(ProtocolError) {
        guard parameters.model(model) != nil else {
            throw .invalidStatement(type: "delegation", reason: "model \"\(model)\" is not in the network file, so not approved on this network; its models: \(parameters.models.map(\.id).joined(separator: ", "))")
        }
        if case let .delegate(target) = action, target == author {
            throw .invalidStatement(type: "delegation", reason: "a participant cannot delegate to itself")
        }
    }

    /// Adds a verified `delegation` statement. Declarations breaking `check` are refused.
    public mutating func add(_ statement: SignedStatement, parameters: NetworkParameters) throws(ProtocolError) {
        let body = try BeaconRound.decode(statement, as: DelegationBody.self)
        try Self.check(model: body.model, action: body.action, author: statement.author.raw, parameters: parameters)
        let key = Key(author: statement.author.raw, model: body.model)
        var records = latest[key] ?? []
        guard !records.contains(where: { $0.id == statement.id }) else { return }
        records.append(Record(epoch: statement.epoch, seq: statement.seq, id: statement.id, action: body.action))
        latest[key] = records
    }

    /// The declaration in force for epoch `epoch`: the highest-seq one signed in an epoch before it.
    public func declaration(author: Bytes32, model: String, epoch: UInt64) -> DelegationAction? {
        latest[Key(author: author, model: model)]?
            .filter { $0.epoch < epoch }
            .max { ($0.seq, $0.id) < ($1.seq, $1.id) }?
            .action
    }

    /// Resolves every participant's mode for `model` in `epoch`: DIRECT for `committers`; a
    /// delegation counts only if its target is DIRECT and has voting weight, else NONE.
    public func resolve(
        model: String, epoch: UInt64, participants: Set<Bytes32>, committers: Set<Bytes32>, votingWeights: [Bytes32: UInt64]
    ) -> [Bytes32: ResolvedMode] {
        var modes: [Bytes32: ResolvedMode] = [:]
        for p in participants.union(committers) {
            if committers.contains(p) {
                modes[p] = ResolvedMode(mode: .direct, target: nil)
                continue
            }
            switch declaration(author: p, model: model, epoch: epoch) {
            case let .delegate(target)?:
                let qualifies = committers.contains(target) && (votingWeights[target] ?? 0) > 0
                modes[p] = qualifies ? ResolvedMode(mode: .delegate, target: target) : .nonParticipant
            case .refuse?: modes[p] = ResolvedMode(mode: .refuse, target: nil)
            case .intent?: modes[p] = ResolvedMode(mode: .intent, target: nil)
            case nil: modes[p] = .nonParticipant
            }
        }
        return modes
    }
}
