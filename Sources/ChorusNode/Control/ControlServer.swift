import ChorusCrypto
import ChorusLoop
import Foundation
import Logging

/// The node side of the control socket (Specs/control.md): a Unix socket (mode 0600) in the data
/// directory; each request is one JSON object on one line, each answer too.
extension Node {
    /// A request line longer than this closes the control connection.
    static let maxControlLine = 64 * 1024

    /// Listens on the control socket at `path`. A socket file left by a dead node is replaced; a
    /// live one is an error.
    public func startControlServer(path: String) throws(NodeError) {
        do {
            controlServer = try UnixListener(path: path, on: loop) { [weak self] connection in
                self?.enter(carrying: connection) { $0.controlAccepted($1) }
            }
            logger.info("control socket ready", metadata: ["path": "\(path)"])
        } catch {
            throw .controlSocketFailed(path, error.description)
        }
    }

    private func controlAccepted(_ connection: UnixConnection) {
        ControlConnection(connection: connection, node: self).start()
    }

    fileprivate func controlRequest(_ line: [UInt8], on connection: LoopBound<ControlConnection>) {
        let request: ControlRequest
        do { request = try JSONDecoder().decode(ControlRequest.self, from: Data(line)) } catch {
            reply(ControlResponse<String>(error: "malformed request: expected {\"method\": ..., \"params\": {...}}"), on: connection)
            return
        }
        switch request.method {
        case "status":
            reply(ControlResponse(result: status()), on: connection)
        case "peers":
            reply(ControlResponse(result: peers()), on: connection)
        case "ping":
            guard let hex = request.params["peer"], let peer = try? Ed25519.PublicKey(hex: hex) else {
                reply(ControlResponse<String>(error: "ping needs params.peer: a 64-hex-digit public key"), on: connection)
                return
            }
            Task {
                do throws(NodeError) {
                    let rtt = try await self.ping(peer)
                    self.reply(ControlResponse(result: PingResult(publicKey: peer.hex, rttMilliseconds: Self.seconds(rtt) * 1000)), on: connection)
                } catch {
                    self.reply(ControlResponse<PingResult>(error: error.description), on: connection)
                }
            }
        case "publish":
            let topic = request.params["topic"] ?? NodeConfiguration.defaultTopic
            let body: [UInt8]
            if let hex = request.params["hex"] {
                guard let bytes = try? Hex.decode(hex) else {
                    return reply(ControlResponse<String>(error: "params.hex is not hex"), on: connection)
                }
                body = bytes
            } else {
                body = Array((request.params["data"] ?? "").utf8)
            }
            // The answer means durable (Specs/control.md): it waits for the statement's group commit.
            Task {
                do throws(NodeError) {
                    let statement = try await self.publish(topic: topic, body: body)
                    let messageID = Blake2b.hash256(statement.encoded)
                    self.reply(ControlResponse(result: PublishResult(id: messageID.hex, statementID: statement.id.hex, topic: topic,
                                                                     author: statement.author.hex, seq: statement.seq)), on: connection)
                } catch {
                    self.reply(ControlResponse<PublishResult>(error: error.description), on: connection)
                }
            }
        case "messages":
            let topic = request.params["topic"] ?? NodeConfiguration.defaultTopic
            let since = request.params["since"].flatMap { Int($0) } ?? 0
            let limit = request.params["limit"].flatMap { Int($0) } ?? 1000
            reply(ControlResponse(result: messages(topic: topic, since: since, limit: max(1, min(limit, 10_000)))), on: connection)
        case "trace":
            guard let hex = request.params["id"], let id = try? Bytes32(hex: hex) else {
                return reply(ControlResponse<String>(error: "trace needs params.id: a 64-hex-digit message id"), on: connection)
            }
            guard let receipts = trace(id) else {
                return reply(ControlResponse<String>(error: "this node has not seen message \(hex)"), on: connection)
            }
            reply(ControlResponse(result: receipts), on: connection)
        case "epoch":
            let epoch = request.params["epoch"].flatMap { UInt64($0) }
            guard let status = epochStatus(epoch) else {
                return reply(ControlResponse<String>(error: "this node does not follow epochs (start it with a network file)"), on: connection)
            }
            reply(ControlResponse(result: status), on: connection)
        case "weights":
            let epoch = request.params["epoch"].flatMap { UInt64($0) }
            guard epochs != nil else {
                return reply(ControlResponse<String>(error: "this node does not follow epochs (start it with a network file)"), on: connection)
            }
            guard let table = weights(epoch) else {
                return reply(ControlResponse<String>(error: "no final weight table yet\(epoch.map { " for epoch \($0)" } ?? "")"), on: connection)
            }
            reply(ControlResponse(result: WeightsResult(table)), on: connection)
        case "votes":
            guard let result = votes(request.params["epoch"].flatMap { UInt64($0) }) else {
                return reply(ControlResponse<String>(error: "this node does not follow epochs (start it with a network file)"), on: connection)
            }
            reply(ControlResponse(result: result), on: connection)
        case "mesh":
            reply(ControlResponse(result: meshStatus()), on: connection)
        case "members":
            guard let members = members() else {
                return reply(ControlResponse<String>(error: "membership is not running (no listen address could bind UDP)"), on: connection)
            }
            reply(ControlResponse(result: members), on: connection)
        case "subscribe":
            do throws(NodeError) {
                try subscribe(request.params["topic"] ?? "")
                reply(ControlResponse(result: meshStatus()), on: connection)
            } catch {
                reply(ControlResponse<MeshStatus>(error: error.description), on: connection)
            }
        case "declare", "epoch-export":
            epochControlRequest(request, on: connection)
        default:
            reply(ControlResponse<String>(
                error: "unknown method \"\(request.method)\"; known: status, peers, ping, publish, messages, trace, mesh, members, subscribe, epoch, weights, declare, epoch-export, votes"),
                  on: connection)
        }
    }

    /// Answers the request `connection` is handling; exactly one answer per request.
    func reply<R>(_ response: ControlResponse<R>, on connection: LoopBound<ControlConnection>) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(response)).map { Array($0) }
            ?? Array(#"{"error":"internal: the answer could not be encoded","ok":false}"#.utf8)
        connection.value.answer(data + [0x0a])
    }
}

/// One client of the control socket: splits its bytes into request lines and hands them to the
/// node one at a time, so answers leave in the order of the requests even when one (a publish
/// waiting for durability, a ping waiting for its pong) takes a while.
///
/// What a client can make the node hold is bounded: at most one request line (64 KiB) plus one read
/// chunk is buffered, reading stops while a request is handled, and no further request is read
/// while more than `maxUnreadAnswers` bytes of answers wait for the client to read them (the kernel's
/// socket buffer then pushes back on the client). Loop-confined; the connection keeps it alive
/// (through its callbacks) until it closes.
final class ControlConnection {
    /// Answer bytes a client may leave unread before the node stops reading its requests.
    static let maxUnreadAnswers = 1 << 20

    let connection: UnixConnection
    let node: Node
    private var buffer: [UInt8] = []
    /// A request was handed to the node and has not been answered yet.
    private var handling = false

    init(connection: UnixConnection, node: Node) {
        self.connection = connection
        self.node = node
    }

    func start() {
        connection.onRead = { chunk in self.received(chunk) }
        connection.onWritabilityChanged = { writable in if writable { self.next() } }
        connection.onClose = { _ in }
        connection.startReading()
    }

    /// Sends the answer to the request being handled and moves on to the next one.
    func answer(_ bytes: [UInt8]) {
        guard handling else { return }
        handling = false
        if !connection.isClosed { connection.write(bytes) }
        next()
    }

    private func received(_ chunk: [UInt8]) {
        buffer += chunk
        next()
    }

    /// Hands the next complete line to the node when nothing is being handled and the client reads
    /// its answers; reads more only when no complete line is waiting.
    private func next() {
        guard !handling, !connection.isClosed else { return }
        guard connection.writeQueueSize <= Self.maxUnreadAnswers else {
            connection.stopReading()  // resumed by onWritabilityChanged once the client reads
            return
        }
        guard let newline = buffer.firstIndex(of: 0x0a) else {
            if buffer.count > Node.maxControlLine {
                connection.close(.requested("control request line over \(Node.maxControlLine) bytes"))
            } else {
                connection.startReading()
            }
            return
        }
        let line = Array(buffer[..<newline])
        buffer.removeFirst(newline + 1)
        handling = true
        connection.stopReading()
        node.enter(carrying: self) { $0.controlRequest(line, on: LoopBound($1, loop: $0.loop)) }
    }
}
