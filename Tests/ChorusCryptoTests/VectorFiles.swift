import ChorusCrypto
import Foundation

/// Loads JSON test vectors from Specs/vectors, found relative to this source file so the tests
/// work from any working directory.
enum VectorFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ChorusCryptoTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Specs/vectors")

    /// Decodes `name`; the files' snake_case keys map to camelCase properties (`secret_key` → `secretKey`).
    static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// Hex from a vector file; a malformed vector fails the test that reads it.
func bytes(_ hex: String) throws -> [UInt8] { try Hex.decode(hex) }
