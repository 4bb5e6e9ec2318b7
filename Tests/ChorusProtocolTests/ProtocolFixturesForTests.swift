import ChorusCrypto
import ChorusNetworkFile
import ChorusProtocol
import ChorusWire
import Foundation

/// Keys, parameters and statement helpers shared by the protocol tests.
enum FixturesForTests {
    /// The devnet's genesis keys: seeds 01×32 … 05×32.
    static let keys: [Ed25519.SigningKey] = (1...5).map { i in
        // Invariant: a 32-byte seed is always a valid Ed25519 seed.
        try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: UInt8(i), count: 32)))
    }

    static func key(_ seedByte: UInt8) -> Ed25519.SigningKey {
        try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: seedByte, count: 32)))
    }

    static let devnet: NetworkParameters = {
        // Invariant: the checked-in devnet file is valid (NetworkFileTests checks it on its own).
        try! NetworkFile.load(path: RepositoryPathsForTests.devnetNetworkFile.path)
    }()

    static let smol = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
    static let synthetic = "chorus/synthetic-devnet"

    static func sign<Body: StatementBody>(_ body: Body, key: Ed25519.SigningKey, epoch: UInt64, seq: UInt64, network: String = "chorus-devnet") throws -> SignedStatement {
        try SignedStatement.sign(networkID: network, epoch: epoch, seq: seq, body: body, key: key)
    }

    static func hex(_ any: Any?) throws -> Bytes32 {
        guard let s = any as? String else { throw FixtureError("expected a hex string, got \(String(describing: any))") }
        return try Bytes32(hex: s)
    }

    static func bytes(_ any: Any?) throws -> [UInt8] {
        guard let s = any as? String else { throw FixtureError("expected a hex string, got \(String(describing: any))") }
        return try Hex.decode(s)
    }

    static func uint(_ any: Any?) throws -> UInt64 {
        guard let n = any as? NSNumber else { throw FixtureError("expected a number, got \(String(describing: any))") }
        return n.uint64Value
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
