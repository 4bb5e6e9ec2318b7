import ChorusCrypto
import ChorusMesh
import ChorusProtocol
import ChorusWire
import Foundation

/// Seed inputs per target: the hex fields of Specs/vectors that belong to the target's decoder,
/// plus a few encodings built here with the project's encoders where the vectors have none.
public enum FuzzSeeds {
    /// The repository this source file belongs to.
    public static let repositoryRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    public static func seeds(for target: String, repositoryRoot root: String = repositoryRoot) -> [[UInt8]] {
        let v = root + "/Specs/vectors/"
        func hex(_ file: String, _ keys: Set<String>) -> [[UInt8]] { hexFields(v + file, keys: keys) }
        switch target {
        case "frame":
            let messages = hex("noise-xx.json", ["messages", "ciphertext"])
            return [[0], [3, 0, 0], messages.flatMap { FrameDecoder.frame($0) }] + messages.map { [7] + FrameDecoder.frame($0) }
        case "noise-handshake":
            return hex("noise-xx.json", ["messages"]).enumerated().map { [UInt8($0.offset)] + $0.element }
        case "identity-proof":
            return [[]] + hex("noise-xx.json", ["initiator_extensions"])
        case "noise-session":
            return hex("noise-xx.json", ["plaintext"]).map { p in
                // length ‖ plaintext per transport message; the vector's plaintexts are whole messages.
                let head = Array(p.prefix(255))
                return [UInt8(head.count)] + head + [9, 0x80] + Array("fragment".utf8) + [4, 0] + Array("end".utf8)
            } + [[9, 1, 1, 2, 3, 4, 5, 6, 7, 8], [6, 3, 0x03, 0xe8] + Array("bye".utf8)]
        case "gossip-rpc":
            return hex("gossip-rpc.json", ["encoded"])
        case "statement":
            return hex("statements.json", ["encoded"]) + sampleStatements().map(\.encoded)
        case "statement-body":
            let statements = sampleStatements()
            let order: [StatementType] = [.pocCommit, .confirmationCommit, .vote, .delegation, .certificateSignature,
                                          .beaconCommit, .beaconReveal, .equivocationEvidence]
            return statements.compactMap { s in order.firstIndex(of: s.type).map { [UInt8($0)] + Array(s.body) } }
        case "sync-message":
            let statements = hex("statements.json", ["encoded"])
            let ids = (1...3).map { b32(UInt8($0)) }
            let scope = SyncScope(topic: "statements", epoch: 7)
            let range = IDRange(lower: ids[0], upper: ids[2])
            return [
                SyncMessage.fetch(ids).encoded(),
                SyncMessage.statements(Array(statements.prefix(3))).encoded(),
                SyncMessage.reconcile([.fingerprint(scope, range, count: 3, fingerprint: ids[1]),
                                       .ids(scope, IDRange(lower: ids[2], upper: nil), ids, wantsReply: true)]).encoded(),
            ]
        case "peer-record":
            return hexFields(v + "peer-records.json", keys: ["encoded"], under: ["vectors", "invalid", "forged"])
        case "peer-exchange":
            return hexFields(v + "peer-records.json", keys: ["encoded"], under: ["px", "px_invalid"])
        case "swim-datagram":
            let datagrams = hex("swim-datagrams.json", ["encoded"])
            return datagrams.map { [0] + $0 } + datagrams.map { [1] + $0.dropLast(Ed25519.signatureLength) }
        case "proof-message":
            return hex("proofs.json", ["encoded", "hex", "forged_request"])
        case "gguf":
            return [sampleGGUF()]
        case "network-file":
            return [(try? Data(contentsOf: URL(fileURLWithPath: root + "/Network/devnet/network.toml"))).map { Array($0) } ?? []]
        case "control-request":
            return [#"{"method":"status","params":{}}"#, #"{"method":"epoch","params":{"epoch":"3","verbose":"1"}}"#]
                .map { Array($0.utf8) }
        case "worker-json":
            let bodies = [
                #"{"model":"m","synthetic":{"seed":"01","preset":"tiny","config":{"hidden_size":16}}}"#,
                #"{"model":"m","seed":"ab","participant":"cd","params":{"k_dim":12,"seq_len":8},"nonce_offset":0,"nonce_count":4}"#,
                #"{"model":"m","prompt_tokens":[1,2,3],"max_tokens":4,"sampling":{"temperature":0.5,"seed":1},"stream":true}"#,
                #"{"model":"m","prompt_tokens":[1],"completion_tokens":[2,3],"top_logprobs":2}"#,
                #"{"model":"m","seed":"ab","participant":"cd","params":{"k_dim":12},"nonces":[1,2],"vectors":["00",null]}"#,
                #"{"model":"m","messages":[{"role":"user","content":"hi"}],"add_generation_prompt":true}"#,
                #"{"model":"m","tokens":[1,2,3]}"#,
            ]
            return bodies.enumerated().map { [UInt8($0.offset)] + Array($0.element.utf8) }
        case "epoch-export":
            let statements = sampleStatements().map { Hex.encode($0.encoded) }
            let export: [String: Any] = [
                "format": EpochExport.currentFormat, "network_id": FuzzKeys.networkID, "epoch": 1,
                "parameters_digest": String(repeating: "00", count: 32), "previous_table": "",
                "statements": statements, "beacon_commits": [String](), "delegations": [String](),
                "previous_confirmations": [String](), "certificate": [String](),
            ]
            return [(try? JSONSerialization.data(withJSONObject: export, options: [.sortedKeys])).map { Array($0) } ?? []]
        default:
            return []
        }
    }

    /// Every hex string found under `keys` (at any depth) in a JSON file, optionally only below the
    /// top-level members `under`.
    static func hexFields(_ path: String, keys: Set<String>, under: Set<String>? = nil) -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) else { return [] }
        var out: [[UInt8]] = []
        func walk(_ value: Any, key: String?) {
            if let dict = value as? [String: Any] {
                for k in dict.keys.sorted() { walk(dict[k]!, key: k) }
            } else if let list = value as? [Any] {
                for item in list { walk(item, key: key) }
            } else if let text = value as? String, let key, keys.contains(key), let bytes = try? Hex.decode(text) {
                out.append(bytes)
            }
        }
        if let under, let dict = json as? [String: Any] {
            for k in under.sorted() { if let sub = dict[k] { walk(sub, key: k) } }
        } else {
            walk(json, key: nil)
        }
        return out
    }

    static func b32(_ byte: UInt8) -> Bytes32 { Bytes32([UInt8](repeating: byte, count: 32))! }

    /// One signed statement of every body type, signed by the fixed key.
    static func sampleStatements() -> [SignedStatement] {
        let key = FuzzKeys.signer
        let d = b32(0xaa)
        let bodies: [(StatementType, [UInt8])] = [
            (.pocCommit, PoCCommitBody(model: "m", count: 4, root: d, depth: 2, seedBasis: [d]).encodedBytes()),
            (.confirmationCommit, ConfirmationCommitBody(window: 0, model: "m", count: 4, root: d, depth: 2).encodedBytes()),
            (.vote, VoteBody(participant: d, model: "m", commit: d, root: d, count: 4, verdict: .valid, samples: 2, mismatches: 0,
                             sampleProof: key.sign([1])).encodedBytes()),
            (.delegation, DelegationBody(model: "m", action: .delegate(to: d)).encodedBytes()),
            (.certificateSignature, CertificateSignatureBody(tableDigest: d).encodedBytes()),
            (.beaconCommit, BeaconCommitBody(targetEpoch: 8, commitment: d).encodedBytes()),
            (.beaconReveal, BeaconRevealBody(targetEpoch: 7, reveal: d).encodedBytes()),
        ]
        var statements = bodies.compactMap { try? SignedStatement.sign(networkID: FuzzKeys.networkID, type: $0.0, epoch: 7, seq: 1, body: $0.1, key: key) }
        if let a = statements.first,
           let b = try? SignedStatement.sign(networkID: FuzzKeys.networkID, type: .pocCommit, epoch: 7, seq: 1,
                                             body: PoCCommitBody(model: "m", count: 5, root: d, depth: 2, seedBasis: [d]).encodedBytes(), key: key),
           let evidence = try? SignedStatement.sign(networkID: FuzzKeys.networkID, epoch: 7, seq: 2, body: EquivocationEvidenceBody(a, b), key: key) {
            statements.append(evidence)
        }
        return statements
    }

    /// A small GGUF v3 file: three metadata values (int, string, string array) and one f32 tensor.
    static func sampleGGUF() -> [UInt8] {
        var b: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); b += Array(s.utf8) }
        u32(3); u64(1); u64(3)
        str("general.alignment"); u32(4); u32(32)
        str("general.name"); u32(8); str("fuzz")
        str("tokenizer.ggml.tokens"); u32(9); u32(8); u64(2); str("a"); str("b")
        str("w"); u32(2); u64(4); u64(2); u32(0); u64(0)
        while b.count % 32 != 0 { b.append(0) }
        for i in 0..<8 { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { b += $0 } }
        return b
    }
}
