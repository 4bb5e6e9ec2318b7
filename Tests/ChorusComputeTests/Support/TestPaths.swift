import Foundation

/// Paths the tests need: the package root (for Specs/vectors) and fresh temporary files.
enum TestPaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // ChorusComputeTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func vector(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Specs/vectors").appendingPathComponent(name)
    }

    /// A path in a fresh directory under the system temporary directory (removed by the caller
    /// through `removeTemporary`).
    static func temporaryFile(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-compute-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }

    static func removeTemporary(_ url: URL) {
        try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }
}
