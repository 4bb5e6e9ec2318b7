import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

@Suite struct WeightArithmeticTests {
    typealias F = FixturesForTests

    static func ratio(_ any: Any?) throws -> Ratio {
        let pair = try #require(any as? [NSNumber])
        return try Ratio(pair[0].uint64Value, pair[1].uint64Value)
    }

    @Test func consensusWeightsMatchVectors() throws {
        let v = try #require(try RepositoryPathsForTests.loadJSON("weights.json") as? [String: Any])
        for c in try #require(v["cases"] as? [[String: Any]]) {
            var p = F.devnet
            p.caps = CapParameters(
                groupCapFactor: try Self.ratio(c["group_cap_factor"]), maxParticipantShare: try Self.ratio(c["max_participant_share"]),
                maxModelVotingPowerShare: .zero)
            p.delegation = DelegationParameters(
                refusalPenalty: try Self.ratio(c["refusal_penalty"]), noParticipationPenalty: try Self.ratio(c["no_participation_penalty"]),
                delegationShare: try Self.ratio(c["delegation_share"]))
            var pocWeights: [String: [Bytes32: UInt64]] = [:]
            for (model, entries) in try #require(c["poc_weights"] as? [String: [String: NSNumber]]) {
                for (id, w) in entries { pocWeights[model, default: [:]][try Bytes32(hex: id)] = w.uint64Value }
            }
            var modes: [String: [Bytes32: ResolvedMode]] = [:]
            for (model, entries) in try #require(c["modes"] as? [String: [String: [String: String]]]) {
                for (id, m) in entries {
                    let mode: ParticipationMode = switch m["mode"] {
                    case "direct": .direct
                    case "delegate": .delegate
                    case "refuse": .refuse
                    case "intent": .intent
                    default: .none
                    }
                    modes[model, default: [:]][try Bytes32(hex: id)] = ResolvedMode(mode: mode, target: try m["target"].map { try Bytes32(hex: $0) })
                }
            }
            let equivocators = Set(try (try #require(c["equivocators"] as? [String])).map { try Bytes32(hex: $0) })
            let got = try WeightArithmetic.consensusWeights(
                parameters: p, epoch: try F.uint(c["epoch"]), pocWeights: pocWeights, modes: modes, equivocators: equivocators)
            var expected: [Bytes32: UInt64] = [:]
            for (id, w) in try #require(c["expected"] as? [String: NSNumber]) { expected[try Bytes32(hex: id)] = w.uint64Value }
            #expect(got == expected, "\(c["name"] ?? "")")
        }
        for c in try #require(v["cap_shares"] as? [[String: Any]]) {
            var weights: [Bytes32: UInt128] = [:]
            for (id, w) in try #require(c["weights"] as? [String: NSNumber]) { weights[try Bytes32(hex: id)] = UInt128(w.uint64Value) }
            var expected: [Bytes32: UInt128] = [:]
            for (id, w) in try #require(c["expected"] as? [String: NSNumber]) { expected[try Bytes32(hex: id)] = UInt128(w.uint64Value) }
            #expect(WeightArithmetic.capShares(weights, share: try Self.ratio(c["share"])) == expected)
        }
    }
}

@Suite struct DelegationTests {
    typealias F = FixturesForTests

    func declare(_ key: Ed25519.SigningKey, _ action: DelegationAction, model: String = FixturesForTests.synthetic, epoch: UInt64, seq: UInt64) throws -> SignedStatement {
        try F.sign(DelegationBody(model: model, action: action), key: key, epoch: epoch, seq: seq)
    }

    @Test func lastDeclarationWinsAndTakesEffectNextEpoch() throws {
        var book = DelegationBook()
        let (a, b, c) = (F.keys[0], F.keys[1], F.keys[2])
        try book.add(try declare(a, .delegate(to: b.publicKey.raw), epoch: 1, seq: 5), parameters: F.devnet)
        try book.add(try declare(a, .refuse, epoch: 2, seq: 7), parameters: F.devnet)
        try book.add(try declare(a, .intent, epoch: 2, seq: 6), parameters: F.devnet)
        #expect(book.declaration(author: a.publicKey.raw, model: F.synthetic, epoch: 1) == nil)
        #expect(book.declaration(author: a.publicKey.raw, model: F.synthetic, epoch: 2) == .delegate(to: b.publicKey.raw))
        #expect(book.declaration(author: a.publicKey.raw, model: F.synthetic, epoch: 3) == .refuse)
        #expect(book.declaration(author: a.publicKey.raw, model: F.smol, epoch: 3) == nil)
        #expect(throws: ProtocolError.self) { try book.add(try declare(c, .delegate(to: c.publicKey.raw), epoch: 1, seq: 1), parameters: F.devnet) }
        #expect(throws: ProtocolError.self) { try book.add(try declare(c, .refuse, model: "no/model", epoch: 1, seq: 1), parameters: F.devnet) }
    }

    @Test func modesResolveAgainstCommittersAndWeights() throws {
        var book = DelegationBook()
        let ids = F.keys.map(\.publicKey.raw)
        try book.add(try declare(F.keys[0], .delegate(to: ids[1]), epoch: 1, seq: 1), parameters: F.devnet)  // target DIRECT with weight
        try book.add(try declare(F.keys[2], .delegate(to: ids[3]), epoch: 1, seq: 1), parameters: F.devnet)  // target did not commit
        try book.add(try declare(F.keys[3], .refuse, epoch: 1, seq: 1), parameters: F.devnet)
        try book.add(try declare(F.keys[4], .intent, epoch: 1, seq: 1), parameters: F.devnet)
        try book.add(try declare(F.keys[1], .refuse, epoch: 1, seq: 1), parameters: F.devnet)  // overridden: it commits
        let modes = book.resolve(model: F.synthetic, epoch: 2, participants: Set(ids), committers: [ids[1]], votingWeights: [ids[1]: 10, ids[3]: 10])
        #expect(modes[ids[0]] == ResolvedMode(mode: .delegate, target: ids[1]))
        #expect(modes[ids[1]]?.mode == .direct)
        #expect(modes[ids[2]]?.mode == ParticipationMode.none)
        #expect(modes[ids[3]]?.mode == .refuse)
        #expect(modes[ids[4]]?.mode == .intent)
        // A target without voting weight does not qualify.
        let weightless = book.resolve(model: F.synthetic, epoch: 2, participants: Set(ids), committers: [ids[1]], votingWeights: [:])
        #expect(weightless[ids[0]]?.mode == ParticipationMode.none)
    }

    @Test func bodyDecodingIsStrict() throws {
        for action in [DelegationAction.delegate(to: Blake2b.hash256([1])), .refuse, .intent] {
            let body = DelegationBody(model: F.smol, action: action)
            #expect(try DelegationBody(decoding: body.encodedBytes()) == body)
            #expect(throws: WireError.self) { try DelegationBody(decoding: body.encodedBytes() + [0]) }
            #expect(throws: WireError.self) { try DelegationBody(decoding: Array(body.encodedBytes().dropLast())) }
        }
        var w = WireWriter()
        w.writeU8(1); w.writeString(F.smol); w.writeU8(4)
        #expect(throws: WireError.self) { try DelegationBody(decoding: w.bytes) }
    }
}
