import ChorusCrypto
import ChorusProtocol
import Foundation

/// The control socket's methods (Specs/control.md), by their wire names.
public enum ControlMethod: String, CaseIterable, Sendable {
    case status, peers, ping, publish, messages, trace, mesh, members, subscribe, epoch, weights, declare
    case epochExport = "epoch-export"
    case votes
    case inferences
}

/// A control request with its parameters parsed and checked (Specs/control.md). On the wire it is
/// `{"method": ..., "params": {...}}` with string parameters; `init(method:params:)` is the one
/// place those strings are validated, so the node, the CLI and tests agree on what a valid request
/// is and every refusal is a typed `ControlError`.
///
/// A value built from its cases directly is not validated (a topic could be empty): the node
/// decodes what it receives, and `validated()` checks a value before it is sent.
public enum ControlRequest: Sendable, Hashable, Codable {
    case status
    case peers
    case ping(peer: Ed25519.PublicKey)
    /// Sent as `data` (text) when the body is UTF-8, else as `hex`.
    case publish(topic: String, body: [UInt8])
    /// `limit` is 1…`maxMessagesLimit` (larger ones are clamped when decoded).
    case messages(topic: String, since: Int, limit: Int)
    case trace(id: Bytes32)
    case mesh
    case members
    case subscribe(topic: String)
    /// The epoch to show; nil: the current one.
    case epoch(UInt64?)
    /// nil: the last final epoch.
    case weights(epoch: UInt64?)
    case declare(model: String, action: DelegationAction)
    /// `epoch` ≥ 1.
    case epochExport(epoch: UInt64)
    /// nil: the current epoch.
    case votes(epoch: UInt64?)
    /// The newest inference records (at most `limit`, 1…`maxInferencesLimit`), of `epoch`'s tickets when given.
    case inferences(epoch: UInt64?, limit: Int)

    /// `messages` answers at most this many per request, 1000 unless asked.
    public static let maxMessagesLimit = 10_000
    public static let defaultMessagesLimit = 1000
    /// `inferences` answers at most this many records per request, 100 unless asked.
    public static let maxInferencesLimit = 1000
    public static let defaultInferencesLimit = 100

    static let topicRule = "1-64 characters of a-z 0-9 / . _ -"

    public var method: ControlMethod {
        switch self {
        case .status: .status
        case .peers: .peers
        case .ping: .ping
        case .publish: .publish
        case .messages: .messages
        case .trace: .trace
        case .mesh: .mesh
        case .members: .members
        case .subscribe: .subscribe
        case .epoch: .epoch
        case .weights: .weights
        case .declare: .declare
        case .epochExport: .epochExport
        case .votes: .votes
        case .inferences: .inferences
        }
    }

    /// The wire's string parameters: what `init(method:params:)` reads back as this request.
    public var params: [String: String] {
        func epoch(_ epoch: UInt64?) -> [String: String] { epoch.map { ["epoch": "\($0)"] } ?? [:] }
        switch self {
        case .status, .peers, .mesh, .members: return [:]
        case let .ping(peer): return ["peer": peer.hex]
        case let .publish(topic, body):
            if let text = String(validating: body, as: UTF8.self) { return ["topic": topic, "data": text] }
            return ["topic": topic, "hex": Hex.encode(body)]
        case let .messages(topic, since, limit): return ["topic": topic, "since": "\(since)", "limit": "\(limit)"]
        case let .trace(id): return ["id": id.hex]
        case let .subscribe(topic): return ["topic": topic]
        case let .epoch(e): return epoch(e)
        case let .weights(e): return epoch(e)
        case let .votes(e): return epoch(e)
        case let .inferences(e, limit): return epoch(e).merging(["limit": "\(limit)"]) { $1 }
        case let .declare(model, action):
            switch action {
            case let .delegate(target): return ["model": model, "action": "delegate", "target": target.hex]
            case .refuse: return ["model": model, "action": "refuse"]
            case .intent: return ["model": model, "action": "intent"]
            }
        case let .epochExport(e): return epoch(e)
        }
    }

    /// Parses and checks a request's method and string parameters. Parameters a method does not
    /// take are ignored.
    ///
    /// - Throws: `.unknownMethod`, or `.badParameter` naming the first parameter that is missing
    ///   or malformed and what it must be.
    public init(method name: String, params: [String: String] = [:]) throws(ControlError) {
        guard let method = ControlMethod(rawValue: name) else { throw .unknownMethod(name) }
        func bad(_ parameter: String, _ expected: String) -> ControlError {
            .badParameter(method: method.rawValue, parameter: parameter, expected: expected)
        }
        func topic(default value: String?) throws(ControlError) -> String {
            guard let topic = params["topic"] ?? value, Node.isValidTopic(topic) else { throw bad("topic", Self.topicRule) }
            return topic
        }
        func epoch() throws(ControlError) -> UInt64? {
            guard let text = params["epoch"] else { return nil }
            guard let epoch = UInt64(text) else { throw bad("epoch", "an epoch number") }
            return epoch
        }
        func integer(_ name: String, default value: Int, minimum: Int, _ expected: String) throws(ControlError) -> Int {
            guard let text = params[name] else { return value }
            guard let number = Int(text), number >= minimum else { throw bad(name, expected) }
            return number
        }
        switch method {
        case .status: self = .status
        case .peers: self = .peers
        case .mesh: self = .mesh
        case .members: self = .members
        case .ping:
            guard let hex = params["peer"], let peer = try? Ed25519.PublicKey(hex: hex) else { throw bad("peer", "a 64-hex-digit public key") }
            self = .ping(peer: peer)
        case .publish:
            let topic = try topic(default: NodeConfiguration.defaultTopic)
            if let hex = params["hex"] {
                guard let body = try? Hex.decode(hex) else { throw bad("hex", "the body as hex digits (or give params.data: text)") }
                self = .publish(topic: topic, body: body)
            } else {
                self = .publish(topic: topic, body: Array((params["data"] ?? "").utf8))
            }
        case .messages:
            let topic = try topic(default: NodeConfiguration.defaultTopic)
            let since = try integer("since", default: 0, minimum: 0, "a message index (0 or more)")
            let limit = try integer("limit", default: Self.defaultMessagesLimit, minimum: 1,
                                    "a number of messages from 1 (at most \(Self.maxMessagesLimit) are answered)")
            self = .messages(topic: topic, since: since, limit: min(limit, Self.maxMessagesLimit))
        case .trace:
            guard let hex = params["id"], let id = try? Bytes32(hex: hex) else { throw bad("id", "a 64-hex-digit message id") }
            self = .trace(id: id)
        case .subscribe: self = .subscribe(topic: try topic(default: nil))
        case .epoch: self = .epoch(try epoch())
        case .weights: self = .weights(epoch: try epoch())
        case .votes: self = .votes(epoch: try epoch())
        case .inferences:
            let limit = try integer("limit", default: Self.defaultInferencesLimit, minimum: 1,
                                    "a number of records from 1 (at most \(Self.maxInferencesLimit) are answered)")
            self = .inferences(epoch: try epoch(), limit: min(limit, Self.maxInferencesLimit))
        case .declare:
            guard let model = params["model"], !model.isEmpty else { throw bad("model", "a model id of the network file") }
            switch params["action"] {
            case "delegate":
                guard let hex = params["target"], let key = try? Ed25519.PublicKey(hex: hex) else {
                    throw bad("target", "the participant's public key as 64 hex digits (delegate needs one)")
                }
                self = .declare(model: model, action: .delegate(to: key.raw))
            case "refuse": self = .declare(model: model, action: .refuse)
            case "intent": self = .declare(model: model, action: .intent)
            default: throw bad("action", "delegate, refuse or intent")
            }
        case .epochExport:
            guard let epoch = try epoch(), epoch >= 1 else { throw bad("epoch", "an epoch number from 1 (epoch 0 is the genesis table)") }
            self = .epochExport(epoch: epoch)
        }
    }

    /// This request as the node will decode it: the same value, or the error the node would answer.
    public func validated() throws(ControlError) -> ControlRequest {
        try ControlRequest(method: method.rawValue, params: params)
    }

    /// What a request line must look like, for `malformedRequest`.
    static let expectedShape = #"expected {"method": ..., "params": {...}}"#

    /// Decodes one request line as the node receives it.
    public static func decode(line: some Sequence<UInt8>) throws(ControlError) -> ControlRequest {
        do {
            return try JSONDecoder().decode(ControlRequest.self, from: Data(line))
        } catch let error as ControlError {
            throw error
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.first?.stringValue == CodingKeys.params.stringValue {
            throw .malformedRequest(reason: "params must be an object of strings (\(expectedShape))")
        } catch let DecodingError.dataCorrupted(context) {
            // JSONDecoder wraps what an `init(from:)` throws only when it is not JSON at all.
            if let error = context.underlyingError as? ControlError { throw error }
            throw .malformedRequest(reason: expectedShape)
        } catch {
            throw .malformedRequest(reason: expectedShape)
        }
    }

    enum CodingKeys: String, CodingKey { case method, params }

    /// `params` may be left out when empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let method = try container.decode(String.self, forKey: .method)
        let params = try container.decodeIfPresent([String: String].self, forKey: .params) ?? [:]
        self = try ControlRequest(method: method, params: params)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(method.rawValue, forKey: .method)
        try container.encode(params, forKey: .params)
    }
}
