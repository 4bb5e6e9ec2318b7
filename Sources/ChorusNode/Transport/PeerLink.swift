import ChorusCrypto
import ChorusLoop
import ChorusMesh

/// One TCP connection carrying the Chorus transport (Specs/transport.md): frames, the Noise XX
/// handshake as initiator or responder, then the session with its send queue and keepalive.
///
/// Loop-confined: created, used and called back on the node's loop thread only. The node owns it
/// (in its table of links) from accept or connect until it reports `.closed`; the link reports
/// `.closed` exactly once, whoever closed it, and then never calls back again.
final class PeerLink {
    typealias ID = ConnectionManager.ConnectionID

    enum Event {
        /// The handshake completed and authenticated the peer.
        case established(IdentityProof)
        /// A whole application message arrived.
        case message(ArraySlice<UInt8>)
        /// A pong answered one of our pings.
        case pong(nonce: UInt64, rtt: Duration)
        /// The link is closed; no more events follow.
        case closed(ChorusMesh.CloseReason)
    }

    /// Frames during the handshake are at most this long (Specs/transport.md §1).
    static let maxHandshakeFrame = 4096
    /// How long a graceful close waits for the peer to read the close message.
    static let closeGrace: Duration = .seconds(1)

    let id: ID
    let direction: ConnectionManager.Direction
    let connection: TCPConnection
    /// The remote socket address as the pure layer sees it (nil if the kernel did not say).
    let remoteAddress: NetAddress?
    let openedAt: ContinuousClock.Instant
    private(set) var remote: IdentityProof?
    private(set) var establishedAt: ContinuousClock.Instant?
    private(set) var lastReceived: ContinuousClock.Instant
    private(set) var lastPingSent: ContinuousClock.Instant?
    private(set) var rtt: Duration?
    private(set) var statistics = LinkStatistics()
    var isEstablished: Bool { session != nil && !isClosed }
    /// A connection the node has no room for: it completes the handshake only to answer one peer
    /// exchange request (so a newcomer refused by full nodes still learns where to go), then closes.
    var isTemporary = false
    private(set) var isClosed = false

    private var decoder = FrameDecoder(maxFrameLength: PeerLink.maxHandshakeFrame)
    private var handshake: NoiseHandshake?
    private var session: NoiseSession?
    private var queue: SendQueue
    private let maxMessageSize: Int
    private var pings: [UInt64: ContinuousClock.Instant] = [:]
    private var nextPingNonce: UInt64 = 1
    private let onEvent: (PeerLink, Event) -> Void

    init(id: ID, direction: ConnectionManager.Direction, connection: TCPConnection, handshake: NoiseHandshake,
         maxMessageSize: Int, sendLimits: SendQueue.Limits, onEvent: @escaping (PeerLink, Event) -> Void) {
        self.id = id
        self.direction = direction
        self.connection = connection
        self.remoteAddress = connection.peerAddress.flatMap { try? NetAddress(parsing: $0.description) }
        self.handshake = handshake
        self.maxMessageSize = maxMessageSize
        self.queue = SendQueue(limits: sendLimits)
        self.onEvent = onEvent
        self.openedAt = .now
        self.lastReceived = .now
    }

    /// Starts reading and, as initiator, sends handshake message 1.
    func start() {
        connection.onRead = { [weak self] chunk in self?.received(chunk) }
        connection.onClose = { [weak self] reason in self?.connectionClosed(reason) }
        connection.onWritabilityChanged = { [weak self] writable in if writable { self?.drain() } }
        connection.startReading()
        if handshake?.nextStep == .write { writeHandshakeMessage() }
    }

    // MARK: - Sending

    /// Queues an application message. Returns false when the link is not established, or when the
    /// message's priority queue is full (the drop is counted).
    @discardableResult
    func send(_ message: [UInt8], priority: SendPriority) -> Bool {
        guard isEstablished, message.count <= maxMessageSize else { return false }
        guard queue.enqueue(message, priority: priority) else { return false }
        drain()
        return true
    }

    /// Sends a ping now (pings bypass the queue: they measure the link, not its backlog).
    @discardableResult
    func ping() -> UInt64? {
        guard isEstablished, var session else { return nil }
        let nonce = nextPingNonce
        nextPingNonce += 1
        do {
            let frame = try session.sealPing(nonce)
            self.session = session
            pings[nonce] = .now
            lastPingSent = .now
            write(frame)
            return nonce
        } catch {
            fail(.protocolViolation("cannot seal ping: \(error)"))
            return nil
        }
    }

    var queuedMessages: Int { queue.count }
    var drops: [SendPriority: Int] { queue.drops }

    private func drain() {
        while !isClosed, connection.isWritable, var session, let (message, _) = queue.dequeue() {
            do {
                let frames = try session.seal(message: message)
                self.session = session
                for frame in frames { write(frame) }
                statistics.messagesSent += 1
            } catch {
                fail(.protocolViolation("cannot seal message: \(error)"))
            }
        }
    }

    private func write(_ frame: [UInt8]) {
        statistics.bytesSent += frame.count
        connection.write(frame)
    }

    // MARK: - Closing

    /// Closes the link. For reasons that are not the peer's fault, an established session first
    /// tells the peer why (a close message) and gives it `closeGrace` to read it.
    func close(_ reason: ChorusMesh.CloseReason) {
        guard !isClosed else { return }
        if !reason.isMisbehaviour, var session, let frame = try? session.sealClose(code: Self.closeCode(reason), reason: reason.description) {
            self.session = session
            write(frame)
            finish(reason)
            connection.closeAfterFlushing(.requested(reason.description))
            let timer = LoopTimer(on: connection.loop)
            let connection = self.connection
            timer.schedule(after: Self.closeGrace) {
                connection.close(.requested("close grace period over"))
                timer.close()
            }
        } else {
            finish(reason)
            connection.close(.requested(reason.description))
        }
    }

    private func fail(_ reason: ChorusMesh.CloseReason) { close(reason) }

    private func finish(_ reason: ChorusMesh.CloseReason) {
        isClosed = true
        handshake = nil
        onEvent(self, .closed(reason))
    }

    private func connectionClosed(_ reason: ChorusLoop.CloseReason) {
        guard !isClosed else { return }
        switch reason {
        case .peerClosed: finish(.peerClosed)
        case .loopShutdown: finish(.shuttingDown)
        case let .failed(error): finish(.connectionFailed(error.description))
        case let .requested(why): finish(.connectionFailed(why))
        }
    }

    /// The wire code of a close message (Specs/transport.md §4).
    static func closeCode(_ reason: ChorusMesh.CloseReason) -> UInt16 {
        switch reason {
        case .shuttingDown: return 1
        case .duplicateSession: return 2
        case .idleTimeout: return 3
        case .inboundLimit, .groupLimit: return 4
        case .banned: return 5
        case .selfConnection: return 6
        case .networkMismatch: return 7
        default: return 0
        }
    }

    // MARK: - Receiving

    private func received(_ chunk: [UInt8]) {
        guard !isClosed else { return }
        statistics.bytesReceived += chunk.count
        decoder.append(chunk)
        // One frame at a time: the frame limit rises when the handshake completes, and a peer may
        // send its first session frames in the same TCP segment as handshake message 3.
        while !isClosed {
            let frame: [UInt8]?
            do { frame = try decoder.next() } catch {
                fail(session == nil ? .handshakeFailed(error.description) : .protocolViolation(error.description))
                return
            }
            guard let frame else { return }
            if session != nil { sessionFrame(frame) } else { handshakeFrame(frame) }
        }
    }

    private func handshakeFrame(_ frame: [UInt8]) {
        guard var handshake else { return }
        do {
            try handshake.readMessage(frame)
            self.handshake = handshake
        } catch {
            fail(.handshakeFailed(error.description))
            return
        }
        if handshake.nextStep == .write { writeHandshakeMessage() }
        completeHandshakeIfDone()
    }

    private func writeHandshakeMessage() {
        guard var handshake else { return }
        do {
            let message = try handshake.writeMessage()
            self.handshake = handshake
            write(FrameDecoder.frame(message))
        } catch {
            fail(.handshakeFailed(error.description))
            return
        }
        completeHandshakeIfDone()
    }

    private func completeHandshakeIfDone() {
        guard !isClosed, let handshake, handshake.nextStep == .done else { return }
        do {
            let transport = try handshake.split()
            self.handshake = nil
            session = NoiseSession(transport: transport, maxMessageSize: maxMessageSize)
            remote = transport.remote
            establishedAt = .now
            lastReceived = .now
            decoder.maxFrameLength = 65535
            onEvent(self, .established(transport.remote))
        } catch {
            fail(.handshakeFailed(error.description))
        }
    }

    private func sessionFrame(_ frame: [UInt8]) {
        guard var session else { return }
        let event: NoiseSession.Event?
        do {
            event = try session.open(frame: frame)
            self.session = session
        } catch {
            fail(.protocolViolation(error.description))
            return
        }
        lastReceived = .now
        switch event {
        case nil: break
        case let .message(bytes)?:
            statistics.messagesReceived += 1
            onEvent(self, .message(bytes))
        case let .ping(nonce)?:
            // A peer that does not read what it is sent gets no more pongs: answering each of its
            // pings regardless once grew the unsent bytes (and RSS) without bound. Above the high
            // watermark the pong is withheld; the peer's keepalive still sees our other frames.
            guard connection.isWritable else {
                statistics.pongsWithheld += 1
                return
            }
            do {
                let pong = try session.sealPong(nonce)
                self.session = session
                write(pong)
            } catch { fail(.protocolViolation("cannot seal pong: \(error)")) }
        case let .pong(nonce)?:
            guard let sent = pings.removeValue(forKey: nonce) else { return }  // stale or unsolicited: harmless
            let measured = sent.duration(to: .now)
            rtt = measured
            onEvent(self, .pong(nonce: nonce, rtt: measured))
        case let .close(code, reason)?:
            finish(.peerClosed)
            connection.close(.requested("peer closed the session (code \(code): \(reason))"))
        }
    }
}

/// Byte and message counts of one link.
struct LinkStatistics: Sendable {
    var bytesSent = 0
    var bytesReceived = 0
    var messagesSent = 0
    var messagesReceived = 0
    var pongsWithheld = 0
}
