import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusProtocol
import ChorusStore
import ChorusWire
import Logging

/// Gossip on the node: the pure `GossipRouter` fed with session messages of protocol tag 1, its
/// directives carried out here. Every gossiped payload is a signed statement of this network;
/// validating a message *is* ingesting it (decode, deduplicate, verify, store), so an invalid
/// statement is never forwarded and its sender is penalised by the router's score.
extension Node {
    /// The session-message protocol tag of gossip RPCs (Specs/transport.md §4).
    public static let gossipTag: UInt8 = 1
    /// Topic names: 1 to 64 bytes of `[a-z0-9/._-]`.
    static let topicAlphabet = Set("abcdefghijklmnopqrstuvwxyz0123456789/._-".utf8)

    public static func isValidTopic(_ topic: String) -> Bool {
        (1...GossipRPC.maxTopicLength).contains(topic.utf8.count) && topic.utf8.allSatisfy { topicAlphabet.contains($0) }
    }

    func startGossip() {
        for topic in configuration.topics where Self.isValidTopic(topic) {
            performGossip(router.subscribe(topic, now: now()))
        }
        let timer = LoopTimer(on: loop)
        timer.schedule(after: configuration.gossip.heartbeat, repeatingEvery: configuration.gossip.heartbeat) { [weak self] in
            self?.assumeIsolated { node in
                node.performGossip(node.router.onHeartbeat(now: node.now()))
                node.heartbeats += 1
                // Scores are saved every ~15 heartbeats (10 s) and at stop.
                if node.heartbeats % 15 == 0 { node.peerStore?.saveScores(node.router.scores) }
            }
        }
        heartbeatTimer = timer
        setHandler(for: Self.gossipTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.receivedGossip(bytes, from: peer) }
        }
    }

    // MARK: - Publishing

    /// Signs `body` as a statement of `type`, stores it, publishes it on `topic`, and returns once the
    /// store has committed it: a returned statement survives kill -9 (what `chorus publish`
    /// acknowledges, Specs/control.md). The statement is gossiped at once, before the commit; a
    /// crash in between loses a statement that was never acknowledged. Its id is what `chorus
    /// trace` follows through the mesh. A node without a store keeps nothing to make durable.
    public func publish(topic: String, body: [UInt8], type: StatementType = .text, epoch: UInt64 = 0) async throws(NodeError) -> SignedStatement {
        guard Self.isValidTopic(topic) else { throw .invalidRequest("topic \"\(topic)\" must be 1-64 characters of a-z 0-9 / . _ -") }
        guard body.count <= router.settings.maxPayload - 512 else {
            throw .invalidRequest("body of \(body.count) bytes exceeds the gossip limit of \(router.settings.maxPayload - 512)")
        }
        lastSeq = max(lastSeq + 1, GossipJournal.unixNanos())
        let statement: SignedStatement
        do {
            statement = try SignedStatement.sign(networkID: configuration.networkID, type: type, epoch: epoch, seq: lastSeq,
                                                 body: body, key: signingKey)
        } catch { throw .invalidRequest("cannot sign: \(error)") }
        let (committed, done) = AsyncStream<Result<Void, StoreError>>.makeStream()
        if let statements {
            let outcome: StatementStore.Outcome?
            do {
                outcome = try storeOwn(statements, statement.encoded) { result in
                    done.yield(result)
                    done.finish()
                }
            } catch { throw .storageFailed("cannot store the statement: \(error)") }
            if case let .rejected(error)? = outcome { throw .invalidRequest("the statement was refused: \(error)") }
        } else {
            done.finish()
        }
        let message = GossipMessage(topic: topic, payload: statement.encoded)
        let now = GossipJournal.unixNanos()
        journal.received(message.id, from: nil, at: now)
        journal.delivered(message, from: nil, at: now)
        let (directives, peers) = router.publish(message, now: self.now())
        logger.debug("published", metadata: ["topic": "\(topic)", "id": "\(message.id.hex.prefix(16))", "peers": "\(peers)"])
        performGossip(directives, ownMessage: message.id)
        for await result in committed {
            if case let .failure(error) = result { throw .storageFailed("the statement was not committed: \(error)") }
        }
        return statement
    }

    /// Ingests this node's own statement and commits it now rather than at the next group commit:
    /// the publisher is waiting (`durable` runs on the storage thread once it is on disk).
    private nonisolated func storeOwn(_ store: StatementStore, _ encoded: [UInt8],
                                      durable: @escaping @Sendable (Result<Void, StoreError>) -> Void) throws -> StatementStore.Outcome? {
        let outcome = try store.ingest([encoded], completion: durable).first
        store.flush()
        return outcome
    }

    /// Joins `topic`'s mesh.
    public func subscribe(_ topic: String) throws(NodeError) {
        guard Self.isValidTopic(topic) else { throw .invalidRequest("topic \"\(topic)\" must be 1-64 characters of a-z 0-9 / . _ -") }
        performGossip(router.subscribe(topic, now: now()))
    }

    // MARK: - Receiving

    private func receivedGossip(_ bytes: ArraySlice<UInt8>, from peer: Ed25519.PublicKey) {
        let rpc: GossipRPC
        do { rpc = try GossipRPC(decoding: bytes, maxPayload: configuration.maxMessageSize) } catch {
            misbehaved(peer, because: "malformed gossip RPC: \(error)")
            return
        }
        let time = GossipJournal.unixNanos()
        for message in rpc.messages { journal.received(message.id, from: peer, at: time) }
        performGossip(router.onRPC(rpc, from: peer, now: now()))
    }

    /// The last epoch a statement may name: the next one (a correct node's clock may run a little
    /// ahead). nil when the node follows no epochs or genesis has not come.
    func latestAcceptedEpoch() -> UInt64? {
        guard let state = epochs, let position = try? EpochClock(state.engine.parameters).position(atUnixMs: Self.unixMillis()) else {
            return nil
        }
        return position.epoch + 1
    }

    /// Whether `author`'s statements count against the budget of weightless authors
    /// (StatementBudget): false for a participant of the last final table (or a genesis participant
    /// before any) and for this node itself.
    func isBudgeted(_ author: Ed25519.PublicKey) -> Bool {
        guard author != publicKey else { return false }
        if let state = epochs {
            if let last = state.finalTables.keys.max(), let table = state.finalTables[last]?.table {
                if table.entry(author.raw) != nil { return false }
            } else if state.engine.parameters.genesisParticipants.contains(where: { $0.id == author.raw }) {
                return false
            }
        }
        return true
    }

    /// Hands a verified statement to the epoch engine when it is one of its types.
    func routeToEpochs(_ statement: SignedStatement) {
        guard epochs != nil, Self.epochStatementTypes.contains(statement.type) else { return }
        epochStatementArrived(statement)
    }

    // MARK: - Directives

    func performGossip(_ directives: [GossipRouter.Directive], ownMessage: Bytes32? = nil) {
        for directive in directives {
            switch directive {
            case let .send(peer, rpc):
                let priority: SendPriority
                if let ownMessage, rpc.messages.contains(where: { $0.id == ownMessage }) {
                    priority = .publish
                } else if !rpc.messages.isEmpty {
                    priority = .forward
                } else if rpc.subscribe.isEmpty && rpc.unsubscribe.isEmpty && rpc.graft.isEmpty && rpc.prune.isEmpty
                            && rpc.choke.isEmpty && rpc.unchoke.isEmpty {
                    priority = .lazy
                } else {
                    priority = .control
                }
                send(rpc.encoded(), tag: Self.gossipTag, to: peer, priority: priority)
            case let .validate(message, from):
                // Verified off the loop (Services/Intake); the router waits for the verdict.
                intake.validate(message.payload, from: from) { [weak self] result in
                    self?.assumeIsolated { node in
                        node.performGossip(node.router.onValidation(id: message.id, result: result, now: node.now()))
                    }
                }
            case let .deliver(message, from):
                journal.delivered(message, from: from, at: GossipJournal.unixNanos())
            case let .disconnect(peer, reason):
                misbehaved(peer, because: "gossip: \(reason)")
            }
        }
    }

    /// Closes the session with `peer` and bans it for a while (its score or its bytes showed abuse).
    func misbehaved(_ peer: Ed25519.PublicKey, because reason: String) {
        guard let id = manager.establishedPeers[peer] else { return }
        logger.warning("disconnecting misbehaving peer", metadata: ["peer": "\(peer.hex.prefix(16))", "reason": "\(reason)"])
        perform(manager.onMisbehaviour(id, reason: .protocolViolation(reason), now: now()))
    }

    // MARK: - Introspection

    public func messages(topic: String, since: Int = 0, limit: Int = 1000) -> [DeliveredMessage] {
        journal.messages(topic: topic, since: since, limit: limit)
    }

    public func trace(_ id: Bytes32) -> [MessageReceipt]? { journal.trace(id) }

    public func meshStatus() -> MeshStatus {
        let topics = router.subscriptions.sorted().map { topic in
            MeshStatus.TopicMesh(topic: topic, peers: (router.mesh[topic] ?? []).map(\.hex).sorted())
        }
        let scores = router.connectedPeers.map { MeshStatus.PeerScoreEntry(publicKey: $0.hex, score: router.score($0)) }
        let c = router.counters
        return MeshStatus(topics: topics, scores: scores, counters: .init(
            duplicates: c.duplicates, firstDeliveries: c.firstDeliveries, invalid: c.invalid,
            ignoredFromGraylisted: c.ignoredFromGraylisted, iwantRefusedOverLimit: c.iwantRefusedOverLimit,
            ihaveIgnored: c.ihaveIgnored, graftsDuringBackoff: c.graftsDuringBackoff))
    }
}

/// `mesh`: the node's topic meshes, its peers' scores and the router's counters.
public struct MeshStatus: Codable, Sendable, Equatable {
    public struct TopicMesh: Codable, Sendable, Equatable {
        public var topic: String
        public var peers: [String]
    }

    public struct PeerScoreEntry: Codable, Sendable, Equatable {
        public var publicKey: String
        public var score: Double
        enum CodingKeys: String, CodingKey { case publicKey = "public_key", score }
    }

    public struct Counters: Codable, Sendable, Equatable {
        public var duplicates: Int
        public var firstDeliveries: Int
        public var invalid: Int
        public var ignoredFromGraylisted: Int
        public var iwantRefusedOverLimit: Int
        public var ihaveIgnored: Int
        public var graftsDuringBackoff: Int
        enum CodingKeys: String, CodingKey {
            case duplicates, invalid
            case firstDeliveries = "first_deliveries"
            case ignoredFromGraylisted = "ignored_from_graylisted"
            case iwantRefusedOverLimit = "iwant_refused_over_limit"
            case ihaveIgnored = "ihave_ignored"
            case graftsDuringBackoff = "grafts_during_backoff"
        }
    }

    public var topics: [TopicMesh]
    public var scores: [PeerScoreEntry]
    public var counters: Counters
}
