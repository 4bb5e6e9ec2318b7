import ChorusCrypto
import ChorusWire
import Foundation
import Testing
@testable import ChorusMesh

/// SWIM datagrams against vectors written by an independent encoder (Tools/vectors/swim_datagram_vector.py,
/// Specs/vectors/swim-datagrams.json), the replay window, and splitting messages to the size limit.
struct SWIMDatagramTests {
    struct Vectors: Decodable {
        struct Update: Decodable {
            let member: UInt8
            let status: String
            let incarnation: UInt64
            let address: String?
            let source: UInt8?
        }
        struct Message: Decodable {
            let kind: String
            let sequence: UInt64?
            let target: UInt8?
            let timeout_ms: UInt32?
            let is_reply: Bool?
            let members: [Update]?
            let updates: [Update]?
        }
        struct Valid: Decodable {
            let name: String
            let seed_byte: UInt8
            let counter: UInt64
            let message: Message
            let encoded: String
        }
        struct Invalid: Decodable {
            let name: String
            let encoded: String
            let error: String
        }
        let domain_hex: String
        let network_id: String
        let max_size: Int
        let vectors: [Valid]
        let invalid: [Invalid]
    }

    static func vectors() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Specs/vectors/swim-datagrams.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    static func key(_ byte: UInt8) -> Ed25519.SigningKey {
        try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: byte, count: 32)))
    }

    static func update(_ u: Vectors.Update) throws -> MemberUpdate {
        MemberUpdate(member: key(u.member).publicKey, status: try #require(["alive": .alive, "suspect": .suspect, "dead": .dead][u.status]),
                     incarnation: u.incarnation, address: try u.address.map { try NetAddress(parsing: $0) },
                     source: u.source.map { key($0).publicKey })
    }

    static func message(_ m: Vectors.Message) throws -> SWIMMessage {
        let kind: SWIMMessage.Kind
        switch m.kind {
        case "ping": kind = .ping(sequence: try #require(m.sequence))
        case "ack": kind = .ack(sequence: try #require(m.sequence))
        case "nack": kind = .nack(sequence: try #require(m.sequence))
        case "gossip": kind = .gossip
        case "ping_request":
            kind = .pingRequest(sequence: try #require(m.sequence), target: key(try #require(m.target)).publicKey,
                                timeoutMilliseconds: try #require(m.timeout_ms))
        case "sync":
            guard let isReply = m.is_reply else { throw WireError.invalidValue(field: "is_reply", reason: "missing in the vector") }
            kind = .sync(members: try (m.members ?? []).map(update), isReply: isReply)
        default: throw WireError.unknownType(m.kind)
        }
        return SWIMMessage(kind, updates: try (m.updates ?? []).map(update))
    }

    @Test func decodesAndSignsLikeTheIndependentEncoder() throws {
        let v = try Self.vectors()
        #expect(Hex.encode(SWIMDatagram.domain) == v.domain_hex)
        #expect(SWIMDatagram.defaultMaxSize == v.max_size)
        #expect(v.vectors.count >= 6)
        for e in v.vectors {
            let expected = SWIMDatagram(sender: Self.key(e.seed_byte).publicKey, counter: e.counter, message: try Self.message(e.message))
            let decoded = try SWIMDatagram(verifying: try Hex.decode(e.encoded), networkID: v.network_id)
            #expect(decoded == expected, "\(e.name)")
            #expect(Hex.encode(expected.signed(with: Self.key(e.seed_byte), networkID: v.network_id)) == e.encoded, "\(e.name)")
            #expect(SWIMDatagram.size(of: expected.message) == e.encoded.count / 2, "\(e.name)")
        }
    }

    @Test func refusesEveryInvalidVectorWithTheNamedError() throws {
        let v = try Self.vectors()
        #expect(v.invalid.count >= 9)
        for e in v.invalid {
            do {
                _ = try SWIMDatagram(verifying: try Hex.decode(e.encoded), networkID: v.network_id)
                Issue.record("\(e.name): accepted")
            } catch let error as WireError {
                #expect(error.code == e.error, "\(e.name): \(error)")
            }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var rng = SplitMix64(seed: 3)
        for length in 0..<600 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(throws: WireError.self) { _ = try SWIMDatagram(verifying: bytes, networkID: "test-net") }
        }
    }

    @Test func replayWindowAcceptsEachCounterOnceAndToleratesReordering() {
        var window = ReplayWindow()
        let counters: [UInt64] = [1000, 1000, 1002, 1001, 1001, 1100, 1040, 1036, 5]
        let accepted = counters.map { window.accept($0) }
        // a replay, reordered but new, a replay, 63 behind is inside, 64 behind is outside, far behind
        #expect(accepted == [true, false, true, true, false, true, true, false, false])
        #expect(window.highest == 1100)
    }

    @Test func oversizedMessagesAreSplitToFit() throws {
        var members: [MemberUpdate] = []
        for i in 0..<100 {
            let suspect = i % 3 == 0
            let address = try NetAddress(parsing: "10.0.\(i).1:7700")
            let member = Self.key(UInt8(i + 1)).publicKey
            members.append(MemberUpdate(member: member, status: suspect ? .suspect : .alive, incarnation: UInt64(i),
                                        address: address, source: suspect ? Self.key(200).publicKey : nil))
        }
        let sync = SWIMMessage(.sync(members: members, isReply: false), updates: Array(members.prefix(12)))
        let parts = SWIMDatagram.fitting(sync)
        #expect(parts.count > 1)
        #expect(parts.allSatisfy { SWIMDatagram.size(of: $0) <= SWIMDatagram.defaultMaxSize })
        var carried: [MemberUpdate] = []
        for (i, part) in parts.enumerated() {
            guard case let .sync(chunk, isReply) = part.kind else { Issue.record("part \(i) is not a sync"); continue }
            #expect(isReply == (i > 0), "only the first part asks for an answer")
            carried += chunk
        }
        #expect(carried == members)
        let gossip = SWIMMessage(.gossip, updates: Array(repeating: members[0], count: 40))
        let fitted = try #require(SWIMDatagram.fitting(gossip).first)
        #expect(SWIMDatagram.size(of: fitted) <= SWIMDatagram.defaultMaxSize && fitted.updates.count < 40 && !fitted.updates.isEmpty)
    }
}
