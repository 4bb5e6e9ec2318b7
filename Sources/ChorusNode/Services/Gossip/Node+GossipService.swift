import ChorusCrypto
import ChorusMesh
import ChorusStore
import ChorusWire
import Foundation

/// Where the gossip service (`GossipService.swift`) meets the node: session messages of tag 1 feed
/// it, sessions reach it through the composition, and the node's public API (`publish`,
/// `subscribe`, `messages`, `trace`, `meshStatus`) forwards to it. Signing and the durable store of
/// own statements stay here: the node holds the key and the store.
extension Node {
    /// The session-message protocol tag of gossip RPCs (Specs/transport.md §4).
    public static let gossipTag: UInt8 = GossipService.tag

    /// Topic names: 1 to 64 bytes of `[a-z0-9/._-]`.
    public static func isValidTopic(_ topic: String) -> Bool { GossipService.isValidTopic(topic) }

    /// The service `Node.gossip` is (made on first use: scores are restored before `start`).
    func makeGossip() -> GossipService {
        GossipService(host: serviceHost, settings: configuration.gossip, maxMessageSize: configuration.maxMessageSize,
                      seed: gossipSeed, intake: intake, unixNanos: { GossipJournal.unixNanos() }, logger: logger)
    }

    /// Joins the configured topics, starts the heartbeat, and takes gossip RPCs.
    func startGossip() {
        gossip.start(topics: configuration.topics)
        setHandler(for: Self.gossipTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.gossip.received(bytes, from: peer) }
        }
    }

    /// Stops the heartbeat; the scores are saved once more (`NodeEvent.gossipScores`).
    func stopGossip() {
        gossip.stop()
    }

    // MARK: - Publishing

    /// Signs `body` as a statement of `type`, stores it, publishes it on `topic`, and returns once the
    /// store has committed it: a returned statement survives kill -9 (what `chorus publish`
    /// acknowledges, Specs/control.md). The statement is gossiped at once, before the commit; a
    /// crash in between loses a statement that was never acknowledged. Its id is what `chorus
    /// trace` follows through the mesh. A node without a store keeps nothing to make durable.
    public func publish(topic: String, body: [UInt8], type: StatementType = .text, epoch: UInt64 = 0) async throws(NodeError) -> SignedStatement {
        guard Self.isValidTopic(topic) else { throw .invalidRequest("topic \"\(topic)\" must be 1-64 characters of a-z 0-9 / . _ -") }
        guard body.count <= gossip.maxBody else {
            throw .invalidRequest("body of \(body.count) bytes exceeds the gossip limit of \(gossip.maxBody)")
        }
        let statement: SignedStatement
        do {
            statement = try SignedStatement.sign(networkID: configuration.networkID, type: type, epoch: epoch, seq: gossip.nextSeq(),
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
        gossip.publish(statement, on: topic)
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
        gossip.subscribe(topic)
    }

    // MARK: - Introspection

    public func messages(topic: String, since: Int = 0, limit: Int = 1000) -> [DeliveredMessage] {
        gossip.messages(topic: topic, since: since, limit: limit)
    }

    public func trace(_ id: Bytes32) -> [MessageReceipt]? { gossip.trace(id) }

    public func meshStatus() -> MeshStatus { gossip.meshStatus() }

    /// The gossip service's router, as it stands (tests read peer scores from it).
    var router: GossipRouter { gossip.router }
}

extension GossipJournal {
    /// The wall clock in Unix nanoseconds: read by the node and injected into the gossip service
    /// (journal times, the floor of own statements' `seq`); the membership seed reads it too.
    static func unixNanos() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1e9)) }
}
