import ChorusCrypto
import ChorusProtocol
import ChorusWire

/// Delegation, refusal and intent (Specs/delegation.md) from the control socket: the engine signs
/// the declaration, and it is stored and gossiped like every statement it signs.
extension Node {
    /// Declares `action` for `model`; effective from the epoch after the current one.
    public func declare(model: String, action: DelegationAction) throws(NodeError) -> DeclareResult {
        guard epochs != nil else { throw .invalidRequest("this node does not follow epochs (start it with --network-file)") }
        let directives: [EngineDirective]
        do { directives = try epochs!.engine.declare(model: model, action: action, now: Self.unixMillis()) } catch {
            throw .invalidRequest(error.description)
        }
        guard let statement = directives.lazy.compactMap({ d -> SignedStatement? in if case let .publish(s) = d { s } else { nil } }).first else {
            throw .invalidRequest("the engine signed no declaration")
        }
        performEpoch(directives)
        let target: String? = if case let .delegate(to) = action { to.hex } else { nil }
        let name = switch action {
        case .delegate: "delegate"
        case .refuse: "refuse"
        case .intent: "intent"
        }
        return DeclareResult(statementID: statement.id.hex, epoch: statement.epoch, effectiveEpoch: statement.epoch + 1,
                             seq: statement.seq, model: model, action: name, target: target)
    }
}

/// `declare`: the signed declaration.
public struct DeclareResult: Codable, Sendable, Equatable {
    public var statementID: String
    /// The epoch it was signed in; it takes effect in `effectiveEpoch`.
    public var epoch: UInt64
    public var effectiveEpoch: UInt64
    public var seq: UInt64
    public var model: String
    public var action: String
    public var target: String?

    enum CodingKeys: String, CodingKey {
        case epoch, seq, model, action, target
        case statementID = "statement_id"
        case effectiveEpoch = "effective_epoch"
    }
}
