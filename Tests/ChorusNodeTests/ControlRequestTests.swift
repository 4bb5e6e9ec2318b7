import ChorusCrypto
import ChorusProtocol
import Foundation
import Testing
@testable import ChorusNode

/// Control requests and errors against Specs/vectors/control-requests.json: every vector line
/// decodes to its typed request (or fails with its typed error), every request survives its wire
/// form, and every error answer is the one the vectors fix and decodes back to the same case.
@Suite struct ControlRequestTests {
    struct Vectors: Decodable {
        struct Canonical: Decodable {
            var method: String
            var params: [String: String]
        }

        struct Request: Decodable {
            var name: String
            var line: String
            var canonical: Canonical
        }

        struct Invalid: Decodable {
            var name: String
            var line: String
            var error: String
            var errorCode: String
            var errorDetails: [String: String]
            enum CodingKeys: String, CodingKey {
                case name, line, error
                case errorCode = "error_code"
                case errorDetails = "error_details"
            }
        }

        struct Foreign: Decodable {
            struct Decoded: Decodable {
                var code: String?
                var message: String
            }
            var name: String
            var answer: ControlResponse<String>
            var decoded: Decoded
        }

        var requests: [Request]
        var invalid: [Invalid]
        var foreign: [Foreign]
    }

    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Specs/vectors/control-requests.json")

    static func vectors() throws -> Vectors { try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url)) }

    /// The `errors` section as plain JSON objects, to compare with what the node encodes.
    static func errorAnswers() throws -> [(name: String, answer: [String: Any])] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let errors = try #require(object["errors"] as? [[String: Any]])
        return try errors.map { (try #require($0["name"] as? String), try #require($0["answer"] as? [String: Any])) }
    }

    static let key = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
    static let target = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let messageID = String(repeating: "aa", count: 32)
    static let model = "chorus/synthetic-devnet"

    /// What each request vector decodes to.
    static func expectedRequests() throws -> [String: ControlRequest] {
        let peer = try Ed25519.PublicKey(hex: key), id = try Bytes32(hex: messageID), to = try Bytes32(hex: target)
        return [
            "status": .status, "status-without-params": .status, "peers": .peers, "ping": .ping(peer: peer),
            "publish-text": .publish(topic: "chat", body: Array("hello mesh".utf8)),
            "publish-default-topic": .publish(topic: "statements", body: Array("hi".utf8)),
            "publish-hex": .publish(topic: "bin", body: [0x00, 0xff]),
            "publish-hex-of-text": .publish(topic: "statements", body: Array("hi".utf8)),
            "publish-empty": .publish(topic: "statements", body: []),
            "messages-defaults": .messages(topic: "statements", since: 0, limit: 1000),
            "messages": .messages(topic: "chat", since: 5, limit: 20),
            "messages-limit-clamped": .messages(topic: "statements", since: 0, limit: 10_000),
            "trace": .trace(id: id), "mesh": .mesh, "members": .members, "subscribe": .subscribe(topic: "chat/room-1"),
            "epoch-current": .epoch(nil), "epoch": .epoch(3),
            "weights-last-final": .weights(epoch: nil), "weights": .weights(epoch: 2),
            "votes-current": .votes(epoch: nil), "votes": .votes(epoch: 4),
            "inferences-default": .inferences(epoch: nil, limit: 100), "inferences": .inferences(epoch: 5, limit: 1000),
            "declare-delegate": .declare(model: model, action: .delegate(to: to)),
            "declare-refuse": .declare(model: model, action: .refuse),
            "declare-intent": .declare(model: model, action: .intent),
            "epoch-export": .epochExport(epoch: 3),
        ]
    }

    /// The vector of each error case. The switch is exhaustive: a new case does not compile
    /// until it has a vector.
    static func vectorName(_ error: ControlError) -> String? {
        switch error {
        case .malformedRequest: "malformed-request"
        case .unknownMethod: "unknown-method"
        case .badParameter: "bad-parameter"
        case .notConnected: "not-connected"
        case .timedOut: "timed-out"
        case .unknownMessage: "unknown-message"
        case .noEpochs: "no-epochs"
        case .noFinalTable(nil): "no-final-table"
        case .noFinalTable(.some): "no-final-table-of-epoch"
        case .noExportBase: "no-export-base"
        case .noStore: "no-store"
        case .membershipNotRunning: "membership-not-running"
        case .notRunning: "not-running"
        case .storageFailed: "storage-failed"
        case .refused: "refused"
        case .internalError: "internal"
        case .other: nil  // never sent by a node; see the `foreign` vectors
        }
    }

    static let expectedErrors: [ControlError] = [
        .malformedRequest(reason: #"expected {"method": ..., "params": {...}}"#),
        .unknownMethod("dance"),
        .badParameter(method: "ping", parameter: "peer", expected: "a 64-hex-digit public key"),
        .notConnected(peer: key),
        .timedOut(peer: key, after: .seconds(5)),
        .unknownMessage(id: messageID),
        .noEpochs,
        .noFinalTable(epoch: nil),
        .noFinalTable(epoch: 7),
        .noExportBase(epoch: 3),
        .noStore,
        .membershipNotRunning,
        .notRunning,
        .storageFailed(reason: "the statement was not committed: MDB_MAP_FULL"),
        .refused(reason: "model no/such-model is not in the network file"),
        .internalError(reason: "the answer could not be encoded"),
    ]

    // MARK: - Requests

    @Test func requestVectorsDecodeToTheirCasesAndWriteTheirCanonicalForm() throws {
        let vectors = try Self.vectors(), expected = try Self.expectedRequests()
        #expect(Set(vectors.requests.map(\.name)) == Set(expected.keys))
        for vector in vectors.requests {
            let request = try ControlRequest.decode(line: Array(vector.line.utf8))
            #expect(request == expected[vector.name], "\(vector.name)")
            #expect(request.method.rawValue == vector.canonical.method && request.params == vector.canonical.params, "\(vector.name): \(request.params)")
            // The canonical form decodes to the same request, through the wire and through the initializer.
            let encoded = try JSONEncoder().encode(request)
            #expect(try ControlRequest.decode(line: Array(encoded)) == request, "\(vector.name)")
            #expect(try ControlRequest(method: vector.canonical.method, params: vector.canonical.params) == request, "\(vector.name)")
            let wire = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
            #expect(wire["method"] as? String == vector.canonical.method && wire["params"] as? [String: String] == vector.canonical.params)
        }
    }

    @Test func everyMethodHasARequestVector() throws {
        #expect(Set(try Self.expectedRequests().values.map(\.method)) == Set(ControlMethod.allCases))
    }

    /// Every case, including bodies that are not UTF-8 (sent as hex) and the largest numbers.
    @Test func everyCaseSurvivesItsWireForm() throws {
        let peer = Ed25519.SigningKey.generate().publicKey
        let requests: [ControlRequest] = [
            .status, .peers, .ping(peer: peer), .publish(topic: "statements", body: [0xff, 0x00, 0xc3]),
            .publish(topic: "a/b.c_d-e", body: Array("ünïcode ✓\n\"quoted\"".utf8)), .publish(topic: "x", body: []),
            .messages(topic: "chat", since: Int.max, limit: 1), .trace(id: Blake2b.hash256([1, 2, 3])), .mesh, .members,
            .subscribe(topic: String(repeating: "t", count: 64)), .epoch(nil), .epoch(UInt64.max), .weights(epoch: nil),
            .weights(epoch: 0), .votes(epoch: nil), .votes(epoch: 9), .declare(model: "m", action: .delegate(to: peer.raw)),
            .declare(model: "m", action: .refuse), .declare(model: "m", action: .intent), .epochExport(epoch: 1),
            .inferences(epoch: nil, limit: 1), .inferences(epoch: 3, limit: 1000),
        ]
        #expect(Set(requests.map(\.method)) == Set(ControlMethod.allCases))
        for request in requests {
            let line = try JSONEncoder().encode(request)
            #expect(try ControlRequest.decode(line: Array(line)) == request, "\(request)")
            #expect(try JSONDecoder().decode(ControlRequest.self, from: line) == request, "\(request)")
            #expect(try request.validated() == request)
        }
        #expect(ControlRequest.publish(topic: "statements", body: [0xff]).params == ["topic": "statements", "hex": "ff"])
    }

    @Test func invalidLinesFailWithTheirTypedError() throws {
        for vector in try Self.vectors().invalid {
            let expected = ControlError(code: vector.errorCode, message: vector.error, details: vector.errorDetails)
            if case .other = expected { Issue.record("\(vector.name): \(vector.errorCode) does not decode to its case") }
            #expect(expected.description == vector.error, "\(vector.name)")
            #expect(expected.code == vector.errorCode && expected.details == vector.errorDetails, "\(vector.name)")
            #expect(throws: expected, "\(vector.name)") { try ControlRequest.decode(line: Array(vector.line.utf8)) }
            // JSONDecoder gives the same typed error (the fuzz target decodes that way).
            if case .badParameter = expected {
                #expect(throws: expected, "\(vector.name)") { try JSONDecoder().decode(ControlRequest.self, from: Data(vector.line.utf8)) }
            }
        }
    }

    @Test func theStringInitializerValidatesAsTheNodeDoes() {
        #expect(throws: ControlError.badParameter(method: "ping", parameter: "peer", expected: "a 64-hex-digit public key")) {
            try ControlRequest(method: "ping", params: ["peer": "zz"])
        }
        #expect(throws: ControlError.unknownMethod("dance")) { try ControlRequest(method: "dance") }
        // A value built from a case is checked by `validated()` with the node's rules.
        #expect(throws: ControlError.badParameter(method: "subscribe", parameter: "topic", expected: "1-64 characters of a-z 0-9 / . _ -")) {
            try ControlRequest.subscribe(topic: "").validated()
        }
        #expect(throws: ControlError.badParameter(method: "epoch-export", parameter: "epoch",
                                                  expected: "an epoch number from 1 (epoch 0 is the genesis table)")) {
            try ControlRequest.epochExport(epoch: 0).validated()
        }
    }

    // MARK: - Errors

    @Test func everyErrorCaseHasAVectorAndIsEncodedAsItSays() throws {
        let answers = try Self.errorAnswers()
        let names = Self.expectedErrors.compactMap(Self.vectorName)
        #expect(names == answers.map(\.name))
        #expect(Set(names).count == names.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for (error, vector) in zip(Self.expectedErrors, answers) {
            let encoded = try encoder.encode(ControlResponse<String>(error: error))
            let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
            let vectorData = try JSONSerialization.data(withJSONObject: vector.answer)
            // The same keys, and the same values under them.
            #expect(Set(object.keys) == Set(vector.answer.keys), "\(vector.name): \(String(decoding: encoded, as: UTF8.self))")
            #expect(try JSONDecoder().decode(ErrorAnswer.self, from: encoded) == JSONDecoder().decode(ErrorAnswer.self, from: vectorData),
                    "\(vector.name): \(String(decoding: encoded, as: UTF8.self))")
            let decoded = try JSONDecoder().decode(ControlResponse<String>.self, from: vectorData)
            #expect(decoded.controlError == error, "\(vector.name)")
            #expect(decoded.error == error.description && decoded.errorCode == error.code)
        }
    }

    /// An error answer's fields, to compare two encodings of one.
    struct ErrorAnswer: Decodable, Equatable {
        var ok: Bool
        var error: String
        var errorCode: String
        var errorDetails: [String: String]?
        enum CodingKeys: String, CodingKey {
            case ok, error
            case errorCode = "error_code"
            case errorDetails = "error_details"
        }
    }

    @Test func foreignAnswersKeepTheirMessageAndCode() throws {
        for vector in try Self.vectors().foreign {
            #expect(vector.answer.controlError == .other(code: vector.decoded.code, message: vector.decoded.message), "\(vector.name)")
            #expect(vector.answer.controlError?.description == vector.decoded.message)
        }
        #expect(ControlResponse(result: "fine").controlError == nil)
    }

    @Test func nodeErrorsMapToTheirCases() {
        #expect(ControlError(NodeError.notConnected("ab")) == .notConnected(peer: "ab"))
        #expect(ControlError(NodeError.pingTimedOut("ab", .seconds(5))) == .timedOut(peer: "ab", after: .seconds(5)))
        #expect(ControlError(NodeError.notRunning) == .notRunning)
        #expect(ControlError(NodeError.invalidRequest("the statement was refused: x")) == .refused(reason: "the statement was refused: x"))
        #expect(ControlError(NodeError.storageFailed("full")) == .storageFailed(reason: "full"))
        #expect(ControlError(NodeError.storageFailed("full")).description == NodeError.storageFailed("full").description)
        #expect(ControlError(NodeError.listenFailed("a", "b")) == .internalError(reason: NodeError.listenFailed("a", "b").description))
        // The client's own failures have codes too; a node's error keeps the node's code.
        #expect(ControlClientError.nodeError(.noEpochs).code == "no_epochs")
        #expect(ControlClientError.cannotConnect("p", "ENOENT").code == "cannot_connect")
        #expect(ControlClientError.nodeError(.other(code: nil, message: "old")).code == nil)
    }
}
