import ChorusCrypto
import ChorusLoop
import ChorusMesh
import Foundation
import Logging

/// Where sockets meet the connection rules: accepted and dialed connections become `PeerLink`s,
/// link events feed the `ConnectionManager`, and its directives are carried out here.
extension Node {
    // MARK: - Inbound and outbound connections

    func accepted(_ connection: TCPConnection) {
        guard isRunning else {
            connection.close(.requested("node is stopping"))
            return
        }
        guard let remote = connection.peerAddress.flatMap({ try? NetAddress(parsing: $0.description) }) else {
            connection.close(.requested("no usable peer address"))
            return
        }
        let (id, directives) = manager.onInbound(from: remote, now: now())
        guard directives.contains(.startHandshake(id)) else {
            for case let .close(_, reason) in directives {
                if reason == .inboundLimit && links.values.filter(\.isTemporary).count < Self.maxTemporaryLinks {
                    acceptTemporarily(connection, id: id)
                    continue
                }
                counters.closes[reason.code, default: 0] += 1
                // Refusals can come by the thousand (a connection flood): debug level, always counted.
                logger.debug("refused inbound connection", metadata: ["address": "\(remote)", "reason": "\(reason)"])
                connection.close(.requested(reason.description))
            }
            return
        }
        counters.inboundAccepted += 1
        let link = makeLink(id: id, direction: .inbound, connection: connection, role: .responder)
        links[id] = link
        link.start()
        // Room for this handshake may have evicted the longest-running one.
        perform(directives.filter { $0 != .startHandshake(id) })
    }

    /// Temporary links at once at most, and how long one may live.
    static let maxTemporaryLinks = 16
    static let temporaryLinkLifetime: Duration = .seconds(3)

    /// Full: hand the newcomer addresses instead of a bare refusal (Specs/transport.md §5). The link
    /// answers one peer-exchange request and closes with code 4; the connection rules never see it.
    private func acceptTemporarily(_ connection: TCPConnection, id: PeerLink.ID) {
        let link = makeLink(id: id, direction: .inbound, connection: connection, role: .responder)
        link.isTemporary = true
        links[id] = link
        link.start()
        let timer = LoopTimer(on: loop)
        timer.schedule(after: Self.temporaryLinkLifetime) { [weak link] in
            link?.close(.inboundLimit)
            timer.close()
        }
    }

    private func temporaryLinkMessage(_ link: PeerLink, _ bytes: ArraySlice<UInt8>) {
        guard bytes.first == Self.peerExchangeTag, let identity = link.remote?.identity,
              let answer = discovery.answerTemporary(bytes.dropFirst(), from: identity, source: link.remoteAddress?.host) else { return }
        link.send([Self.peerExchangeTag] + answer, priority: .control)
        link.close(.inboundLimit)
    }

    func dial(_ id: PeerLink.ID, _ address: NetAddress) {
        counters.dialsAttempted += 1
        discovery.attempted(address)
        guard let socket = try? SocketAddress(parsing: address.description) else {
            counters.dialsFailed += 1
            perform(manager.onDialFailed(id, now: now()))
            return
        }
        TCPConnection.connect(to: socket, on: loop, timeout: configuration.connections.handshakeTimeout) { [weak self] result in
            self?.enter(carrying: result) { $0.dialCompleted(id, address: address, $1) }
        }
    }

    private func dialCompleted(_ id: PeerLink.ID, address: NetAddress, _ result: Result<TCPConnection, LoopError>) {
        switch result {
        case let .success(connection):
            guard isRunning, manager.connections[id] != nil else {
                connection.close(.requested("dial no longer wanted"))
                return
            }
            let link = makeLink(id: id, direction: .outbound, connection: connection, role: .initiator)
            links[id] = link
            perform(manager.onDialConnected(id, now: now()))
            link.start()
        case let .failure(error):
            counters.dialsFailed += 1
            discovery.failed(address)
            logger.debug("dial failed", metadata: ["address": "\(address)", "error": "\(error)"])
            guard isRunning else { return }
            perform(manager.onDialFailed(id, now: now()))
        }
    }

    private func makeLink(id: PeerLink.ID, direction: ConnectionManager.Direction, connection: TCPConnection,
                          role: NoiseHandshake.Role) -> PeerLink {
        let handshake = NoiseHandshake(role: role, networkID: configuration.networkID, identity: signingKey,
                                       localStatic: noiseStatic, ephemeral: .generate(), extensions: handshakeExtensions)
        return PeerLink(id: id, direction: direction, connection: connection, handshake: handshake,
                        maxMessageSize: configuration.maxMessageSize, sendLimits: configuration.sendLimits) { link, event in
            self.linkEvent(link, event)  // runs on the loop, which is this actor's executor
        }
    }

    // MARK: - Link events

    private func linkEvent(_ link: PeerLink, _ event: PeerLink.Event) {
        switch event {
        case let .established(proof) where link.isTemporary:
            counters.handshakesCompleted += 1
            // No room for it, but its address goes into the book, so others learn of it by exchange.
            if let advertised = proof.listenAddress.flatMap({ try? NetAddress(parsing: $0) }) {
                discovery.learn([(advertised, proof.identity)], from: link.remoteAddress?.host ?? advertised.host)
            }
        case let .message(bytes) where link.isTemporary:
            temporaryLinkMessage(link, bytes)
        case let .established(proof):
            counters.handshakesCompleted += 1
            // A peer on another network file is closed here, before it counts as a session.
            guard networkMatches(proof, on: link) else { return }
            let advertised = proof.listenAddress.flatMap { try? NetAddress(parsing: $0) }
            perform(manager.onHandshakeComplete(link.id, identity: proof.identity, advertised: advertised, now: now()))
        case let .message(bytes):
            counters.messagesReceived += 1
            guard let identity = link.remote?.identity, let tag = bytes.first else { return }
            guard let handler = handlers[tag] else {
                counters.unknownTags += 1
                return
            }
            handler(identity, bytes.dropFirst())
        case let .pong(nonce, rtt):
            finishPing(PingKey(link: link.id, nonce: nonce), with: .success(rtt))
        case let .closed(reason):
            links[link.id] = nil
            metrics.linkClosed(bytesSent: link.statistics.bytesSent, bytesReceived: link.statistics.bytesReceived,
                               authenticated: link.establishedAt != nil)
            counters.closes[reason.code, default: 0] += 1
            var metadata: Logger.Metadata = ["address": "\(link.connection.peerAddress.map { "\($0)" } ?? "?")",
                                             "reason": "\(reason)", "direction": "\(link.direction.rawValue)"]
            if let identity = link.remote?.identity { metadata["peer"] = "\(identity.hex.prefix(16))" }
            if reason.isMisbehaviour {
                logger.warning("closed connection", metadata: metadata)
            } else {
                logger.info("closed connection", metadata: metadata)
            }
            for key in pingWaiters.keys where key.link == link.id {
                finishPing(key, with: .failure(.notConnected(link.remote?.identity.hex ?? "?")))
            }
            guard isRunning, !link.isTemporary else { return }
            if let c = manager.connections[link.id], c.direction == .outbound, !wasEstablished(c) {
                discovery.failed(c.address)
            }
            perform(reason.isMisbehaviour
                    ? manager.onMisbehaviour(link.id, reason: reason, now: now())
                    : manager.onClosed(link.id, reason: reason, now: now()))
        }
    }

    private func wasEstablished(_ connection: ConnectionManager.Connection) -> Bool {
        if case .established = connection.state { return true }
        return false
    }

    // MARK: - Directives and the tick

    func perform(_ directives: [ConnectionManager.Directive]) {
        for directive in directives {
            switch directive {
            case let .dial(id, address):
                dial(id, address)
            case .startHandshake:
                break  // `accepted` starts the link as soon as the manager allows it
            case let .close(id, reason):
                links[id]?.close(reason)
            case let .peerConnected(id, identity, direction):
                logger.info("peer connected", metadata: ["peer": "\(identity.hex.prefix(16))", "direction": "\(direction.rawValue)"])
                let link = links[id]
                route(.peerConnected(identity, outbound: direction == .outbound, remote: link?.remoteAddress,
                                     advertised: link?.remote?.listenAddress.flatMap { try? NetAddress(parsing: $0) }))
            case let .peerDisconnected(_, identity, reason):
                logger.info("peer disconnected", metadata: ["peer": "\(identity.hex.prefix(16))", "reason": "\(reason)"])
                route(.peerDisconnected(identity))
            case let .rememberAddress(identity, address):
                discovery.addressWorked(address, identity: identity)
                let peer = KnownPeer(identity: identity, address: address.description,
                                     lastConnected: UInt64(max(0, Date().timeIntervalSince1970)))
                let logger = self.logger
                peerStore?.remember(peer) { result in
                    if case let .failure(error) = result {
                        logger.error("cannot remember peer address", metadata: ["address": "\(address)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Closes the session with `peer` and bans it for a while (its score or its bytes showed abuse).
    func misbehaved(_ peer: Ed25519.PublicKey, because reason: String) {
        guard let id = manager.establishedPeers[peer] else { return }
        logger.warning("disconnecting misbehaving peer", metadata: ["peer": "\(peer.hex.prefix(16))", "reason": "\(reason)"])
        perform(manager.onMisbehaviour(id, reason: .protocolViolation(reason), now: now()))
    }

    func tick() {
        guard isRunning else { return }
        discovery.tick()
        perform(manager.onTick(now: now()))
        // Statements accepted since the last tick become durable in one group commit.
        if let statements, statements.pendingCount > 0 { statements.flush() }
        let clock = ContinuousClock.now
        for link in links.values.sorted(by: { $0.id < $1.id }) where link.isEstablished {
            if link.lastReceived.duration(to: clock) > configuration.idleTimeout {
                link.close(.idleTimeout)
            } else if (link.lastPingSent ?? link.establishedAt).map({ $0.duration(to: clock) >= configuration.keepaliveInterval }) ?? true {
                link.ping()
            }
        }
    }
}
