import ChorusCrypto
import ChorusWire
import Foundation
import Testing
@testable import ChorusProtocol

/// Specs/inference.md against `vectors/inference.json` (from the independent Python reference
/// Tools/vectors/inference_vectors.py): encodings, ids, signatures, seeds, the finish rule, the
/// check draw and the flip test.
@Suite struct InferenceProtocolTests {
    typealias JSON = [String: Any]

    static var vectors: JSON {
        (try? RepositoryPathsForTests.loadJSON("inference.json") as? JSON) ?? [:]
    }

    static func object(_ key: String) throws -> JSON { try #require(vectors[key] as? JSON) }
    static func bytes(_ any: Any?) throws -> [UInt8] { try Hex.decode(try #require(any as? String)) }
    static func b32(_ any: Any?) throws -> Bytes32 { try #require(Bytes32(try bytes(any))) }
    static func u32s(_ any: Any?) throws -> [UInt32] { try #require(any as? [Int]).map { UInt32($0) } }
    static func key(_ hex: Any?) throws -> Ed25519.SigningKey { try Ed25519.SigningKey(seed: SecretBytes(try bytes(hex))) }
    static func ratio(_ any: Any?) throws -> Ratio {
        let pair = try #require(any as? [Int])
        return try Ratio(UInt64(pair[0]), UInt64(pair[1]))
    }

    static func request() throws -> InferenceRequest {
        let r = try object("request")
        return try InferenceRequest(
            model: try #require(r["model"] as? String), promptTokens: try u32s(r["prompt_tokens"]),
            maxTokens: UInt32(try #require(r["max_tokens"] as? Int)), temperatureMillionths: UInt32(try #require(r["temperature"] as? Int)),
            topK: UInt32(try #require(r["top_k"] as? Int)), topPMillionths: UInt32(try #require(r["top_p"] as? Int)),
            stopTokens: try u32s(r["stop_tokens"]), stopSequences: try #require(r["stop_sequences"] as? [String]))
    }

    static func ticket() throws -> (InferenceTicket, Ed25519.SigningKey) {
        let t = try object("ticket")
        let gateway = try key(try object("keys")["gateway_seed"])
        let ticket = try InferenceTicket(
            networkID: try #require(t["network_id"] as? String), epoch: UInt64(try #require(t["epoch"] as? Int)),
            gateway: Ed25519.PublicKey(try b32(t["gateway"])), nonce: UInt64(try #require(t["nonce"] as? Int)),
            issuedAtMs: UInt64(try #require(t["issued_at_ms"] as? Int)), requestDigest: try b32(t["request_digest"]))
        return (ticket, gateway)
    }

    @Test func requestEncodingAndDigestMatchVectors() throws {
        let r = try Self.object("request")
        let request = try Self.request()
        #expect(request.encodedBytes() == (try Self.bytes(r["encoding"])))
        #expect(request.digest == (try Self.b32(r["digest"])))
        #expect(try InferenceRequest(decoding: request.encodedBytes()) == request)
        #expect(request.sampling == TapeSampling(temperature: 0.7, topK: 40, topP: 0.95))
    }

    @Test func ticketRequestIDSignatureAndSeedMatchVectors() throws {
        let t = try Self.object("ticket")
        let (ticket, gateway) = try Self.ticket()
        #expect(ticket.gateway == gateway.publicKey)
        #expect(ticket.requestDigest == (try Self.request()).digest)
        #expect(ticket.encodedBytes() == (try Self.bytes(t["encoding"])))
        #expect(ticket.requestID == (try Self.b32(t["request_id"])))
        let signature = try ticket.sign(with: gateway)
        #expect(signature.bytes == (try Self.bytes(t["gateway_signature"])))
        try ticket.verify(signature)
        #expect(ticket.seed(gatewaySignature: signature, beacon: try Self.b32(t["beacon"])) == (try Self.b32(t["seed"])))
        #expect(try InferenceTicket(decoding: ticket.encodedBytes()) == ticket)
        // Another key cannot sign for this gateway, and a signature over another id does not verify.
        let other = try Self.key(try Self.object("keys")["executor_seed"])
        #expect(throws: ProtocolError.self) { try ticket.sign(with: other) }
        let moved = try InferenceTicket(networkID: ticket.networkID, epoch: ticket.epoch, gateway: ticket.gateway, nonce: ticket.nonce + 1,
                                        issuedAtMs: ticket.issuedAtMs, requestDigest: ticket.requestDigest)
        #expect(throws: ProtocolError.self) { try moved.verify(signature) }
        #expect(moved.seed(gatewaySignature: signature, beacon: .zero) != ticket.seed(gatewaySignature: signature, beacon: .zero))
    }

    @Test func receiptEncodingIDAndSignatureMatchVectors() throws {
        let v = try Self.object("receipt")
        let t = try Self.object("ticket")
        let (ticket, gateway) = try Self.ticket()
        let request = try Self.request()
        let executor = try Self.key(try Self.object("keys")["executor_seed"])
        let output = try Self.u32s(v["output"])
        let receipt = try InferenceReceipt(
            request: request, ticket: ticket, seed: try Self.b32(t["seed"]), executor: executor.publicKey, output: output, finish: .stop,
            startedAtMs: UInt64(try #require(v["started_at_ms"] as? Int)), firstTokenMs: UInt32(try #require(v["first_token_ms"] as? Int)),
            totalMs: UInt32(try #require(v["total_ms"] as? Int)))
        #expect(receipt.outputDigest == (try Self.b32(v["output_digest"])))
        #expect(receipt.encodedBytes() == (try Self.bytes(v["encoding"])))
        #expect(receipt.id == (try Self.b32(v["id"])))
        let signed = try receipt.sign(with: executor)
        #expect(signed.signature.bytes == (try Self.bytes(v["signature"])))
        #expect(signed.encodedBytes() == (try Self.bytes(v["signed_encoding"])))
        let decoded = try SignedInferenceReceipt(decoding: try Self.bytes(v["signed_encoding"]))
        #expect(decoded == signed)
        let gatewaySignature = try ticket.sign(with: gateway)
        let beacon = try Self.b32(t["beacon"])
        // "\n\n" is not in these tokens' text: no stop sequence; token 2 is a stop token.
        try decoded.check(request: request, ticket: ticket, gatewaySignature: gatewaySignature, beacon: beacon, output: output)
    }

    /// The gateway's and validator's check refuses each lie a faulty executor can tell.
    @Test func forgedOrMismatchedReceiptsAreRefused() throws {
        let v = try Self.object("receipt")
        let t = try Self.object("ticket")
        let (ticket, gateway) = try Self.ticket()
        let request = try Self.request()
        let executor = try Self.key(try Self.object("keys")["executor_seed"])
        let output = try Self.u32s(v["output"])
        let seed = try Self.b32(t["seed"])
        let beacon = try Self.b32(t["beacon"])
        let gatewaySignature = try ticket.sign(with: gateway)
        func receipt(seed: Bytes32 = seed, output claimed: [UInt32] = output, finish: InferenceFinish = .stop) throws -> SignedInferenceReceipt {
            try InferenceReceipt(request: request, ticket: ticket, seed: seed, executor: executor.publicKey, output: claimed, finish: finish,
                                 startedAtMs: 1, firstTokenMs: 2, totalMs: 3).sign(with: executor)
        }
        func refused(_ r: SignedInferenceReceipt, against payload: [UInt32] = output, _ expected: String) {
            do {
                try r.check(request: request, ticket: ticket, gatewaySignature: gatewaySignature, beacon: beacon, output: payload)
                Issue.record("accepted a receipt that should fail: \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        refused(try receipt(seed: .zero), "seed")                                   // wrong-seed
        refused(try receipt(output: output + [9]), against: output, "claims 6 output tokens")  // truncate: claims more than sent
        refused(try receipt(output: [504, 3575, 28, 1060]), against: [504, 3575, 28, 1061], "output digest")
        refused(try receipt(finish: .length), "finish reason")
        refused(try receipt(output: [504, 2, 28, 1060, 2]), against: [504, 2, 28, 1060, 2], "past its first stop")
        let good = try receipt()
        let forged = SignedInferenceReceipt(receipt: good.receipt, signature: gatewaySignature)
        refused(forged, "signature")
        // A receipt with a valid executor signature but for another ticket.
        let other = try InferenceTicket(networkID: ticket.networkID, epoch: ticket.epoch + 1, gateway: ticket.gateway, nonce: ticket.nonce,
                                        issuedAtMs: ticket.issuedAtMs, requestDigest: ticket.requestDigest)
        #expect(throws: ProtocolError.self) {
            try good.check(request: request, ticket: other, gatewaySignature: try other.sign(with: gateway), beacon: beacon, output: output)
        }
    }

    @Test func finishRuleMatchesVectors() throws {
        let f = try Self.object("finish")
        let base = try #require(f["request"] as? JSON)
        let request = try InferenceRequest(model: "m", promptTokens: [1], maxTokens: UInt32(try #require(base["max_tokens"] as? Int)),
                                           stopTokens: try Self.u32s(base["stop_tokens"]))
        for c in try #require(f["cases"] as? [JSON]) {
            let output = try Self.u32s(c["output"])
            let end = c["stop_sequence_end"] as? Int
            if let expected = c["error"] as? String {
                do {
                    _ = try FinishRule.reached(request: request, output: output, stopSequenceEnd: end)
                    Issue.record("accepted \(output): expected \(expected)")
                } catch {
                    #expect("\(error)".contains(expected), "\(error)")
                }
            } else {
                let reached = try FinishRule.reached(request: request, output: output, stopSequenceEnd: end)
                #expect(reached?.description == c["reached"] as? String, "\(output)")
                try FinishRule.check(request: request, output: output, finish: reached ?? .cancelled, stopSequenceEnd: end)
                for other in [InferenceFinish.stop, .length, .cancelled] where other != (reached ?? .cancelled) {
                    #expect(throws: ProtocolError.self) { try FinishRule.check(request: request, output: output, finish: other, stopSequenceEnd: end) }
                }
            }
        }
    }

    @Test func checkDrawAndRatesMatchVectors() throws {
        let c = try Self.object("check")
        let validator = try Self.key(try Self.object("keys")["validator_seed"])
        let network = try #require(c["network_id"] as? String)
        let receiptID = try Self.b32(c["receipt_id"])
        #expect(InferenceCheckSampler.checkMessage(networkID: network, receiptID: receiptID) == (try Self.bytes(c["message"])))
        let proof = validator.sign(InferenceCheckSampler.checkMessage(networkID: network, receiptID: receiptID))
        #expect(proof.bytes == (try Self.bytes(c["proof"])))
        let seed = InferenceCheckSampler.seed(from: proof)
        #expect(seed == (try Self.b32(c["seed"])))
        #expect(String(InferenceCheckSampler.draw(seed)) == c["draw"] as? String)
        for r in try #require(c["rates"] as? [JSON]) {
            let parameters = try InferenceCheckParameters(
                fullCheckTraffic: UInt64(try #require(r["check_full_traffic"] as? Int)), checkRateFloor: try Self.ratio(r["check_rate_floor"]),
                honestFlipRate: Ratio(millionths: 50_000), flipPValue: Ratio(millionths: 1_000))
            let rate = InferenceCheckSampler.rate(traffic: UInt64(try #require(r["traffic"] as? Int)), parameters: parameters)
            let expected = try #require(r["rate"] as? [Int])
            #expect([Int(rate.numerator), Int(rate.denominator)] == expected)
            #expect(InferenceCheckSampler.isChecked(seed: seed, rate: rate) == (r["checked"] as? Bool))
        }
        for d in try #require(c["decisions"] as? [JSON]) {
            let s = try Self.b32(d["seed"])
            #expect(InferenceCheckSampler.isChecked(seed: s, rate: CheckRate(numerator: 1, denominator: 10)) == (d["checked_at_1_10"] as? Bool))
            #expect(InferenceCheckSampler.isChecked(seed: s, rate: CheckRate(numerator: 3, denominator: 4)) == (d["checked_at_3_4"] as? Bool))
        }
    }

    @Test func checkDecisionIsProvableAndNeverOnOnesOwnInference() throws {
        let v = try Self.object("receipt")
        let receipt = try SignedInferenceReceipt(decoding: try Self.bytes(v["signed_encoding"])).receipt
        let validator = try Self.key(try Self.object("keys")["validator_seed"])
        let executor = try Self.key(try Self.object("keys")["executor_seed"])
        let decision = InferenceCheckSampler.decide(key: validator, networkID: "chorus-devnet", receipt: receipt, rate: .always)
        #expect(decision.checks)
        #expect(try InferenceCheckSampler.verify(proof: decision.proof, member: validator.publicKey, networkID: "chorus-devnet",
                                                 receipt: receipt, rate: .always))
        #expect(throws: ProtocolError.self) {
            try InferenceCheckSampler.verify(proof: decision.proof, member: executor.publicKey, networkID: "chorus-devnet", receipt: receipt, rate: .always)
        }
        #expect(!InferenceCheckSampler.decide(key: executor, networkID: "chorus-devnet", receipt: receipt, rate: .always).checks)
    }

    @Test func flipThresholdsMatchVectorsAndDefaultsHoldTheFalseFailTarget() throws {
        for f in try #require(Self.vectors["flip_test"] as? [JSON]) {
            let parameters = try InferenceCheckParameters(fullCheckTraffic: 0, checkRateFloor: .one, honestFlipRate: try Self.ratio(f["honest_flip_rate"]),
                                                          flipPValue: try Self.ratio(f["flip_p_value"]))
            let n = try #require(f["positions"] as? Int)
            let max = try #require(f["max_honest_flips"] as? Int)
            #expect(FlipTest.maxHonestFlips(positions: n, parameters: parameters) == max, "n = \(n)")
            #expect(FlipTest.passes(flips: max, positions: n, parameters: parameters))
            if max < n { #expect(!FlipTest.passes(flips: max + 1, positions: n, parameters: parameters)) }
        }
        // The defaults: the first failing count has probability < 1/1000 under a 5 % honest flip rate.
        let d = InferenceCheckParameters.defaults
        for n in [8, 64, 512] {
            let m = FlipTest.maxHonestFlips(positions: n, parameters: d) + 1
            #expect(BinomialTest.pValue(mismatches: m, samples: n, pMismatch: d.honestFlipRate) < 0.001)
            #expect(BinomialTest.pValue(mismatches: m - 1, samples: n, pMismatch: d.honestFlipRate) >= 0.001)
        }
        var thresholds = FlipThresholds(parameters: d)
        #expect(thresholds.maxHonestFlips(positions: 256) == 25 && thresholds.maxHonestFlips(positions: 256) == 25)
    }

    @Test func malformedEncodingsAreRefusedWithTheirCodes() throws {
        for m in try #require(Self.vectors["malformed"] as? [JSON]) {
            let bytes = try Self.bytes(m["hex"])
            let code = try #require(m["error"] as? String)
            do {
                switch m["what"] as? String {
                case "request": _ = try InferenceRequest(decoding: bytes)
                case "receipt": _ = try InferenceReceipt(decoding: bytes)
                default: _ = try SignedInferenceReceipt(decoding: bytes)
                }
                Issue.record("decoded a malformed \(m["what"] ?? "")")
            } catch {
                #expect(error.code == code, "\(error)")
            }
        }
    }

    @Test func requestBoundsAreEnforcedOnConstruction() {
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "", promptTokens: [1], maxTokens: 1) }
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "m", promptTokens: [], maxTokens: 1) }
        #expect(throws: ProtocolError.self) {
            try InferenceRequest(model: "m", promptTokens: [UInt32](repeating: 1, count: InferenceRequest.maxPromptTokens + 1), maxTokens: 1)
        }
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "m", promptTokens: [1], maxTokens: InferenceRequest.maxOutputTokens + 1) }
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "m", promptTokens: [1], maxTokens: 1, temperatureMillionths: 2_000_001) }
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "m", promptTokens: [1], maxTokens: 1, topPMillionths: 0) }
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "m", promptTokens: [1], maxTokens: 1, stopTokens: [3, 3]) }
        #expect(throws: ProtocolError.self) {
            try InferenceRequest(model: "m", promptTokens: [1], maxTokens: 1, stopTokens: (0..<17).map { UInt32($0) })
        }
        #expect(throws: ProtocolError.self) { try InferenceRequest(model: "m", promptTokens: [1], maxTokens: 1, stopSequences: ["b", "a"]) }
        #expect(throws: ProtocolError.self) {
            try InferenceRequest(model: "m", promptTokens: [1], maxTokens: 1, stopSequences: [String(repeating: "x", count: 257)])
        }
        #expect(throws: ProtocolError.self) {
            try InferenceTicket(networkID: "", epoch: 0, gateway: Ed25519.PublicKey(.zero), nonce: 0, issuedAtMs: 0, requestDigest: .zero)
        }
    }
}
