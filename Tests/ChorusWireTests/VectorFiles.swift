import ChorusCrypto
import Foundation

/// Loads JSON test vectors from Specs/vectors, found relative to this source file.
enum VectorFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ChorusWireTests
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
