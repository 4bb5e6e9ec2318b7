import ChorusCrypto
import ChorusLoop
import Foundation
import Testing
@testable import ChorusNode

/// The control socket answers every request line, refuses malformed ones with an error that says
/// what was expected, and closes a connection that sends an endless line.
@Suite(.serialized) struct ControlSocketTests {
    static func withControl(_ body: (NodeHarnessForTests, String) async throws -> Void) async throws {
        let dir = temporaryDirectory("control")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let harness = try await NodeHarnessForTests()
        let path = dir + "/control.sock"
        try await harness.node.startControlServer(path: path)
        try await body(harness, path)
        await harness.shutdown()
    }

    /// Sends raw bytes and returns the first answer line (or nil when the node closed first).
    static func exchange(_ bytes: [UInt8], path: String) async throws -> String? {
        let loop = try EventLoop(name: "control-test")
        defer { loop.shutdown() }
        let peer = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RawUnixPeerForTests, any Error>) in
            _ = loop.execute {
                UnixConnection.connect(path: path, on: loop) { result in
                    continuation.resume(with: result.map { RawUnixPeerForTests($0, loop: loop) })
                }
            }
        }
        peer.write(bytes)
        _ = await eventually { peer.line != nil || peer.isClosed }
        return peer.line
    }

    @Test func answersStatusAndRefusesMalformedRequests() async throws {
        try await Self.withControl { harness, path in
            let status = try await ControlClient.call(ControlRequest(method: "status"), socketPath: path, as: NodeStatus.self)
            #expect(status.publicKey == harness.key.publicKey.hex)
            let garbage = try #require(try await Self.exchange(Array("not json\n".utf8), path: path))
            #expect(garbage.contains("\"ok\":false") && garbage.contains("malformed request"))
            let unknown = try #require(try await Self.exchange(Array("{\"method\":\"dance\",\"params\":{}}\n".utf8), path: path))
            #expect(unknown.contains("unknown method") && unknown.contains("status, peers, ping"))
            await #expect(throws: ControlClientError.self) {
                _ = try await ControlClient.call(ControlRequest(method: "ping", params: ["peer": "zz"]), socketPath: path, as: PingResult.self)
            }
            let notConnected = ControlRequest(method: "ping", params: ["peer": Ed25519.SigningKey.generate().publicKey.hex])
            do {
                _ = try await ControlClient.call(notConnected, socketPath: path, as: PingResult.self)
                Issue.record("ping to an unknown peer succeeded")
            } catch {
                #expect("\(error)".contains("no session with peer"))
            }
        }
    }

    @Test func anEndlessLineClosesTheControlConnection() async throws {
        try await Self.withControl { harness, path in
            let answer = try await Self.exchange([UInt8](repeating: 0x41, count: 100_000), path: path)
            #expect(answer == nil)
            // The node still serves other clients.
            _ = try await ControlClient.call(ControlRequest(method: "peers"), socketPath: path, as: [PeerInfo].self)
        }
    }
}

/// A raw Unix-socket client for control tests. `@unchecked Sendable`: the connection is only used
/// on `loop`; `state` is locked.
final class RawUnixPeerForTests: @unchecked Sendable {
    private let connection: UnixConnection
    private let loop: EventLoop
    private let state = LoopBoundBox<(String?, Bool)>()

    init(_ connection: UnixConnection, loop: EventLoop) {
        self.connection = connection
        self.loop = loop
        var received: [UInt8] = []
        state.set((nil, false))
        connection.onRead = { [state] chunk in
            received += chunk
            if let newline = received.firstIndex(of: 0x0a) { state.set((String(decoding: received[..<newline], as: UTF8.self), false)) }
        }
        connection.onClose = { [state] _ in state.set((state.get()?.0, true)) }
        connection.startReading()
    }

    func write(_ bytes: [UInt8]) { _ = loop.execute { self.connection.write(bytes) } }
    var line: String? { state.get()?.0 }
    var isClosed: Bool { state.get()?.1 ?? false }
}
