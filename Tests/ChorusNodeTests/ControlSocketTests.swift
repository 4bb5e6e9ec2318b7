import ChorusCrypto
import ChorusLoop
import ChorusProtocol
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
            let status = try await ControlClient.call(.status, socketPath: path, as: NodeStatus.self)
            #expect(status.publicKey == harness.key.publicKey.hex)
            let garbage = try #require(try await Self.exchange(Array("not json\n".utf8), path: path))
            #expect(garbage.contains("\"ok\":false") && garbage.contains("malformed request"))
            let unknown = try #require(try await Self.exchange(Array("{\"method\":\"dance\",\"params\":{}}\n".utf8), path: path))
            #expect(unknown.contains("unknown method") && unknown.contains("status, peers, ping"))
            let badPeer = try #require(try await Self.exchange(Array(#"{"method":"ping","params":{"peer":"zz"}}"#.utf8) + [0x0a], path: path))
            #expect(badPeer.contains("ping needs params.peer") && badPeer.contains(#""error_code":"bad_parameter""#), "\(badPeer)")
            let notConnected = ControlRequest.ping(peer: Ed25519.SigningKey.generate().publicKey)
            do {
                _ = try await ControlClient.call(notConnected, socketPath: path, as: PingResult.self)
                Issue.record("ping to an unknown peer succeeded")
            } catch {
                #expect("\(error)".contains("no session with peer"))
            }
        }
    }

    /// What the node refuses reaches the client as the very `ControlError` case the node produced,
    /// through `ControlClient` (typed) and as raw answer lines (every invalid line of the vectors).
    @Test func serverErrorsArriveAsTheSameControlError() async throws {
        try await Self.withControl { harness, path in
            func expect<R: Codable & Sendable>(_ request: ControlRequest, _ type: R.Type, fails expected: ControlError,
                                               sourceLocation: SourceLocation = #_sourceLocation) async {
                do {
                    _ = try await ControlClient.call(request, socketPath: path, as: type)
                    Issue.record("\(request) succeeded", sourceLocation: sourceLocation)
                } catch {
                    #expect(error == .nodeError(expected), sourceLocation: sourceLocation)
                }
            }
            let stranger = Ed25519.SigningKey.generate().publicKey
            await expect(.ping(peer: stranger), PingResult.self, fails: .notConnected(peer: stranger.hex))
            let unseen = Blake2b.hash256(Array("never published".utf8))
            await expect(.trace(id: unseen), [MessageReceipt].self, fails: .unknownMessage(id: unseen.hex))
            // The harness node runs without a network file.
            await expect(.epoch(nil), EpochStatus.self, fails: .noEpochs)
            await expect(.weights(epoch: 2), WeightsResult.self, fails: .noEpochs)
            await expect(.votes(epoch: nil), VotesResult.self, fails: .noEpochs)
            await expect(.declare(model: "m", action: .intent), DeclareResult.self, fails: .noEpochs)
            await expect(.epochExport(epoch: 3), EpochExport.self, fails: .noEpochs)
            // Not validated on this side: the node refuses it with the same typed error.
            await expect(.subscribe(topic: "Not A Topic"), MeshStatus.self,
                         fails: .badParameter(method: "subscribe", parameter: "topic", expected: "1-64 characters of a-z 0-9 / . _ -"))

            for vector in try ControlRequestTests.vectors().invalid {
                let line = try #require(try await Self.exchange(Array(vector.line.utf8) + [0x0a], path: path), "\(vector.name)")
                let answer = try JSONDecoder().decode(ControlResponse<String>.self, from: Data(line.utf8))
                #expect(!answer.ok && answer.error == vector.error, "\(vector.name): \(line)")
                #expect(answer.controlError == ControlError(code: vector.errorCode, message: vector.error, details: vector.errorDetails),
                        "\(vector.name): \(line)")
            }
            // A well-formed request still works on the same node.
            _ = try await ControlClient.call(.subscribe(topic: "chat"), socketPath: path, as: MeshStatus.self)
        }
    }

    @Test func anEndlessLineClosesTheControlConnection() async throws {
        try await Self.withControl { harness, path in
            let answer = try await Self.exchange([UInt8](repeating: 0x41, count: 100_000), path: path)
            #expect(answer == nil)
            // The node still serves other clients.
            _ = try await ControlClient.call(.peers, socketPath: path, as: [PeerInfo].self)
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
