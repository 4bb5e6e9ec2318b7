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
        do throws(ControlError) { request = try ControlRequest.decode(line: line) } catch {
            return fail(error, on: connection)
        }
        handle(request, on: connection)
    }

    /// Runs one decoded request and answers it (exactly once).
    func handle(_ request: ControlRequest, on connection: LoopBound<ControlConnection>) {
        switch request {
        case .status:
            reply(ControlResponse(result: status()), on: connection)
        case .peers:
            reply(ControlResponse(result: peers()), on: connection)
        case let .ping(peer):
            Task {
                do throws(NodeError) {
                    let rtt = try await self.ping(peer)
                    self.reply(ControlResponse(result: PingResult(publicKey: peer.hex, rttMilliseconds: Self.seconds(rtt) * 1000)), on: connection)
                } catch {
                    self.fail(ControlError(error), on: connection)
                }
            }
        case let .publish(topic, body):
            // The answer means durable (Specs/control.md): it waits for the statement's group commit.
            Task {
                do throws(NodeError) {
                    let statement = try await self.publish(topic: topic, body: body)
                    let messageID = Blake2b.hash256(statement.encoded)
                    self.reply(ControlResponse(result: PublishResult(id: messageID.hex, statementID: statement.id.hex, topic: topic,
                                                                     author: statement.author.hex, seq: statement.seq)), on: connection)
                } catch {
                    self.fail(ControlError(error), on: connection)
                }
            }
        case let .messages(topic, since, limit):
            reply(ControlResponse(result: messages(topic: topic, since: since, limit: max(1, min(limit, ControlRequest.maxMessagesLimit)))),
                  on: connection)
        case let .trace(id):
            guard let receipts = trace(id) else { return fail(.unknownMessage(id: id.hex), on: connection) }
            reply(ControlResponse(result: receipts), on: connection)
        case let .epoch(epoch):
            guard let status = epochStatus(epoch) else { return fail(.noEpochs, on: connection) }
            reply(ControlResponse(result: status), on: connection)
        case let .weights(epoch):
            guard epochs != nil else { return fail(.noEpochs, on: connection) }
            guard let table = weights(epoch) else { return fail(.noFinalTable(epoch: epoch), on: connection) }
            reply(ControlResponse(result: WeightsResult(table)), on: connection)
        case let .votes(epoch):
            guard let result = votes(epoch) else { return fail(.noEpochs, on: connection) }
            reply(ControlResponse(result: result), on: connection)
        case let .inferences(epoch, limit):
            let records = inferences(epoch: epoch, limit: limit).map(InferencesResult.Record.init)
            reply(ControlResponse(result: InferencesResult(records: records, recording: inferenceRecords != nil)), on: connection)
        case .mesh:
            reply(ControlResponse(result: meshStatus()), on: connection)
        case .members:
            guard let members = members() else { return fail(.membershipNotRunning, on: connection) }
            reply(ControlResponse(result: members), on: connection)
        case let .subscribe(topic):
            do throws(NodeError) {
                try subscribe(topic)
                reply(ControlResponse(result: meshStatus()), on: connection)
            } catch {
                fail(ControlError(error), on: connection)
            }
        case let .declare(model, action):
            declareRequest(model: model, action: action, on: connection)
        case let .epochExport(epoch):
            exportRequest(epoch: epoch, on: connection)
        }
    }

    /// Answers the request `connection` is handling with an error.
    func fail(_ error: ControlError, on connection: LoopBound<ControlConnection>) {
        reply(ControlResponse<String>(error: error), on: connection)
    }

    /// Answers the request `connection` is handling; exactly one answer per request.
    func reply<R>(_ response: ControlResponse<R>, on connection: LoopBound<ControlConnection>) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(response)).map { Array($0) }
            ?? Array((#"{"error":"internal: the answer could not be encoded","error_code":"internal","#
                      + #""error_details":{"reason":"the answer could not be encoded"},"ok":false}"#).utf8)
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
