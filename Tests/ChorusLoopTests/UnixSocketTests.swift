import Foundation
import Testing
@testable import ChorusLoop

@Suite(.timeLimit(.minutes(1)))
struct UnixSocketTests {
    @Test func echoOverAUnixSocketWhoseFileIsOwnerOnly() async throws {
        let directory = try TemporaryDirectoryForTests()
        defer { directory.remove() }
        let path = directory.file("node.sock")
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            try await harness.startUnixEchoServer(at: path)
            let mode = try #require(FileFactsForTests.mode(of: path))
            #expect(mode.isSocket)
            #expect(mode.permissions == 0o600)

            let payload = patternBytes(300 * 1024)
            let client = try await harness.connectUnix(to: path)
            #expect(try await harness.roundTrip(payload, over: client) == payload)

            await harness.closeListeners()
            #expect(try await loop.run { FileFactsForTests.mode(of: path) == nil }, "close removes the socket file")
        }
    }

    @Test func staleSocketFileIsReplaced() async throws {
        let directory = try TemporaryDirectoryForTests()
        defer { directory.remove() }
        let path = directory.file("stale.sock")
        FileFactsForTests.makeStaleSocketFile(at: path)
        #expect(FileFactsForTests.mode(of: path)?.isSocket == true)
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            try await harness.startUnixEchoServer(at: path)
            let client = try await harness.connectUnix(to: path)
            #expect(try await harness.roundTrip([1, 2, 3], over: client) == [1, 2, 3])
        }
    }

    @Test func socketOfALiveListenerIsNotTakenOver() async throws {
        let directory = try TemporaryDirectoryForTests()
        defer { directory.remove() }
        let path = directory.file("live.sock")
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            try await harness.startUnixEchoServer(at: path)
            let error = await #expect(throws: LoopError.self) { try await harness.startUnixEchoServer(at: path) }
            #expect(error?.code == .invalidSocketPath)
            #expect(error?.description.contains("another process is listening") == true)
            let client = try await harness.connectUnix(to: path)
            #expect(try await harness.roundTrip([9], over: client) == [9], "the first listener still works")
        }
    }

    @Test func fileThatIsNotASocketIsLeftAlone() async throws {
        let directory = try TemporaryDirectoryForTests()
        defer { directory.remove() }
        let path = directory.file("precious.txt")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let error = await #expect(throws: LoopError.self) { try await harness.startUnixEchoServer(at: path) }
            #expect(error?.code == .invalidSocketPath)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
    }

    @Test func overlongPathIsRejectedNotTruncated() async throws {
        let path = "/tmp/" + String(repeating: "x", count: 200) + ".sock"
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let listenError = await #expect(throws: LoopError.self) { try await harness.startUnixEchoServer(at: path) }
            #expect(listenError?.code == .invalidSocketPath)
            let connectError = await #expect(throws: LoopError.self) { _ = try await harness.connectUnix(to: path) }
            #expect(connectError?.code == .invalidSocketPath)
        }
    }

    @Test func connectingToAMissingSocketFails() async throws {
        let directory = try TemporaryDirectoryForTests()
        defer { directory.remove() }
        try await withLoop { loop in
            let harness = LoopHarnessForTests(loop: loop)
            let error = await #expect(throws: LoopError.self) {
                _ = try await harness.connectUnix(to: directory.file("nobody.sock"))
            }
            #expect(error?.systemErrorName == "ENOENT")
        }
    }
}
