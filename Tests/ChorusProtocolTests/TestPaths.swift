import Foundation

/// Files of the repository, found relative to this source file (tests run from any directory).
enum RepositoryPathsForTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func vector(_ name: String) -> URL { root.appendingPathComponent("Specs/vectors/\(name)") }

    static let devnetNetworkFile = root.appendingPathComponent("Network/devnet/network.toml")

    static func loadJSON(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: vector(name)))
    }
}
