import Foundation
import Testing

/// Runs the built `chorus` executable. The tests build nothing: `swift build --build-tests`
/// puts `chorus` in the products directory, next to the test bundle.
enum ChorusBinaryForTests {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let binaryURL: URL? = url(of: "chorus")

    /// A product of this package (`chorus`, `chorusd`) next to the test bundle.
    static func url(of name: String) -> URL? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent(name))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(name))
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func run(_ arguments: [String], stdin: [UInt8] = [], in directory: String? = nil, binary name: String = "chorus") throws -> Result {
        let binary = try #require(Self.url(of: name), "\(name) binary not found next to the test bundle; run `swift build --build-tests`")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        // Both pipes are read to the end before waiting: a child whose output outgrows the pipe
        // buffer (64 KiB; `chorusd devnet --json` prints about 4 KiB a second) would otherwise block
        // on write and never exit.
        let (out, err) = drain(output, errors)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: out, stderr: err)
    }

    /// Reads two pipes to their ends at once (stderr on a dispatch thread), as text.
    static func drain(_ output: Pipe, _ errors: Pipe) -> (stdout: String, stderr: String) {
        final class Box: @unchecked Sendable {  // written by the reader before `group.wait()` returns
            var data = Data()
        }
        let box = Box(), group = DispatchGroup()
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async(group: group) { box.data = errorHandle.readDataToEndOfFile() }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        return (String(decoding: stdout, as: UTF8.self), String(decoding: box.data, as: UTF8.self))
    }
}

/// A fresh directory per test, removed afterwards.
struct TemporaryDirectoryForTests: ~Copyable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-cli-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ bytes: [UInt8], to name: String, mode: Int = 0o644) throws -> String {
        let path = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}
