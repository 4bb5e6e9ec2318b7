import ChorusCrypto
import ChorusWire
import Foundation
import Testing
@testable import ChorusMesh

/// The gossip RPC wire format against vectors written by an independent encoder
/// (Tools/vectors/gossip_rpc_vector.py), plus bounds and mutation checks.
@Suite struct GossipWireTests {
    struct Vectors: Decodable {
        struct Entry: Decodable {
            struct Fields: Decodable {
                var subscribe: [String]?
                var unsubscribe: [String]?
                var messages: [[String]]?
                var ihave: [IHave]?
                var iwant: [String]?
                var graft: [String]?
                var prune: [Prune]?
                var idontwant: [String]?
                var choke: [String]?
                var unchoke: [String]?
            }
            let name: String
            let rpc: Fields
            let encoded: String
            let message_ids: [String]
        }
        struct Invalid: Decodable {
            let name: String
            let encoded: String
            let error: String
        }
        let vectors: [Entry]
        let invalid: [Invalid]
    }

    /// `["topic", ["id", ...]]`
    struct IHave: Decodable {
        let topic: String
        let ids: [String]
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            topic = try c.decode(String.self)
            ids = try c.decode([String].self)
        }
    }

    /// `["topic", backoff]`
    struct Prune: Decodable {
        let topic: String
        let backoff: UInt32
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            topic = try c.decode(String.self)
            backoff = try c.decode(UInt32.self)
        }
    }

    static func vectors() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/vectors/gossip-rpc.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    static func rpc(_ f: Vectors.Entry.Fields) throws -> GossipRPC {
        var rpc = GossipRPC()
        rpc.subscribe = f.subscribe ?? []
        rpc.unsubscribe = f.unsubscribe ?? []
        rpc.messages = try (f.messages ?? []).map { GossipMessage(topic: $0[0], payload: try Hex.decode($0[1])) }
        rpc.ihave = try (f.ihave ?? []).map { ($0.topic, try $0.ids.map { try Bytes32(hex: $0) }) }
        rpc.iwant = try (f.iwant ?? []).map { try Bytes32(hex: $0) }
        rpc.graft = f.graft ?? []
        rpc.prune = (f.prune ?? []).map { ($0.topic, $0.backoff) }
        rpc.idontwant = try (f.idontwant ?? []).map { try Bytes32(hex: $0) }
        rpc.choke = f.choke ?? []
        rpc.unchoke = f.unchoke ?? []
        return rpc
    }

    @Test func encodesAndDecodesTheIndependentVectors() throws {
        for v in try Self.vectors().vectors {
            let rpc = try Self.rpc(v.rpc)
            #expect(Hex.encode(rpc.encoded()) == v.encoded, "\(v.name)")
            let decoded = try GossipRPC(decoding: try Hex.decode(v.encoded)[...], maxPayload: 1 << 20)
            #expect(decoded == rpc, "\(v.name)")
            #expect(decoded.messages.map(\.id.hex) == v.message_ids, "\(v.name)")
        }
    }

    @Test func refusesInvalidEncodingsWithTheExpectedError() throws {
        for v in try Self.vectors().invalid {
            let bytes = try Hex.decode(v.encoded)
            do {
                _ = try GossipRPC(decoding: bytes[...], maxPayload: 1 << 20)
                Issue.record("\(v.name): decoded")
            } catch {
                #expect(error.code == v.error, "\(v.name): \(error)")
            }
        }
    }

    @Test func payloadsOverTheLimitAreRefusedBeforeReading() throws {
        var rpc = GossipRPC()
        rpc.messages = [GossipMessage(topic: "t", payload: [UInt8](repeating: 1, count: 2000))]
        #expect(throws: WireError.self) { _ = try GossipRPC(decoding: rpc.encoded()[...], maxPayload: 1999) }
        #expect(try GossipRPC(decoding: rpc.encoded()[...], maxPayload: 2000) == rpc)
    }

    @Test func everyTruncationFailsCleanly() throws {
        let full = try Self.rpc(Self.vectors().vectors.last!.rpc).encoded()
        for length in 0..<full.count {
            #expect(throws: WireError.self) { _ = try GossipRPC(decoding: full[..<length], maxPayload: 1 << 20) }
        }
    }
}
