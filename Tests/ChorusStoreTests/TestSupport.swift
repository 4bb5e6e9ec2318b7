import ChorusCrypto
import ChorusStore
import Foundation
import Testing

/// A fresh path under the system temp directory (not created: the store creates it), removed with
/// its contents when the value is released.
final class TemporaryDirectoryForTests {
    let path: String

    init(_ label: String = "store") {
        path = FileManager.default.temporaryDirectory.path + "/chorus-store-tests-\(label)-\(UUID().uuidString)"
    }

    /// A path inside the directory (not created).
    func sub(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// "Random" test choices that repeat: ChorusCrypto's SplitMix64 from a fixed seed.
typealias SeededGeneratorForTests = SplitMix64

/// An executable of this package (by default `chorus-store-crash-child`), run as a separate process.
struct ChildProcessForTests {
    let process: Process
    let outputPath: String

    /// The package's executables sit next to the test bundle in the build directory.
    static func binaryPath(_ name: String = "chorus-store-crash-child") throws -> String {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        // On macOS the runner is inside the .xctest bundle; walk up to the build directory.
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ChildMissing(path: path)
        }
        return path
    }

    struct ChildMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing; build it with `swift build --build-tests`" }
    }

    /// Starts the child with `arguments`, its stdout going to `outputPath`.
    static func start(
        _ arguments: [String], outputPath: String, executable: String = "chorus-store-crash-child"
    ) throws -> ChildProcessForTests {
        guard FileManager.default.createFile(atPath: outputPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: outputPath])
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binaryPath(executable))
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try output.close()
        return ChildProcessForTests(process: process, outputPath: outputPath)
    }

    func kill() {
        _ = Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Everything the child printed.
    func output() -> String {
        FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The complete lines the child printed so far.
    func lines() -> [String] {
        var lines = output().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // the text after the last newline: empty, or a line still being written
        return lines
    }

    /// Waits until the child has printed a line equal to (or starting with) `prefix`; false on timeout.
    func waitForLine(startingWith prefix: String, timeoutSeconds: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if lines().contains(where: { $0.hasPrefix(prefix) }) { return true }
            if !process.isRunning { return lines().contains(where: { $0.hasPrefix(prefix) }) }
            usleep(5_000)
        }
        return false
    }
}

/// The batch layout `chorus-store-crash-child write-batches` writes (see its main.swift).
enum CrashBatchLayout {
    static let table = "batches"
    static let schema = StoreSchema(tables: ["batches", "fill"])

    static func value(_ batch: UInt64, _ index: UInt32) -> [UInt8] {
        var value = batch.storeBytes + index.storeBytes
        let padding = Int((batch + UInt64(index)) % 97)
        value += [UInt8](repeating: UInt8(truncatingIfNeeded: batch ^ UInt64(index)), count: padding)
        return value
    }
}
