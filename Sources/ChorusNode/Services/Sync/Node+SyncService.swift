import ChorusCrypto
import ChorusProtocol

/// Where the sync service (`SyncService.swift`) meets the node: session messages of tag 2 feed it,
/// the store's commits reach its index through the composition (`NodeEvent.statementsStored`), and
/// statements it receives go to the node's intake (`ingestSynced`, Services/Intake/Node+Intake.swift).
extension Node {
    /// The session-message protocol tag of sync messages.
    public static let syncTag: UInt8 = SyncService.tag

    /// Starts anti-entropy; a node without a store has nothing to reconcile.
    func startSync() {
        guard let statements, sync == nil else { return }
        // Registered before the index is loaded: a commit in between is inserted twice, harmlessly.
        statements.onCommit { [weak self] committed in
            guard let self else { return }
            loop.execute { [weak self] in self?.assumeIsolated { $0.route(.statementsStored(committed)) } }
        }
        sync = SyncService(
            host: serviceHost, store: statements,
            settings: .init(interval: configuration.syncInterval, retention: configuration.retentionEpochs,
                            indexCapacity: configuration.syncIndexCapacity, maxStatement: configuration.maxMessageSize),
            priorityTypes: Self.epochStatementTypes, logger: logger,
            node: .init(
                currentEpoch: { [unowned self] in assumeIsolated { $0.currentEpoch() } },
                ingest: { [unowned self] batch, peer in assumeIsolated { $0.ingestSynced(batch, from: peer) } },
                count: { [unowned self] count in
                    assumeIsolated { node in
                        switch count {
                        case .round: node.counters.syncRounds += 1
                        case .throttled: node.counters.reconcilesThrottled += 1
                        }
                    }
                }))
        setHandler(for: Self.syncTag) { [weak self] peer, bytes in
            self?.assumeIsolated { $0.sync?.received(bytes, from: peer) }
        }
    }

    func stopSync() {
        statements?.onCommit(nil)
        sync?.stop()
        sync = nil
    }

    /// Opens a reconciliation with `peer` now (besides the periodic rounds).
    func reconcile(with peer: Ed25519.PublicKey) {
        sync?.reconcile(with: peer)
    }

    /// The network's current epoch by the wall clock; nil when the node follows no epochs or
    /// genesis has not come.
    func currentEpoch() -> UInt64? {
        guard let state = epochs, let position = try? EpochClock(state.engine.parameters).position(atUnixMs: Self.unixMillis()) else {
            return nil
        }
        return position.epoch
    }

    /// The sync service's index and window (nil without a store).
    func syncReport() -> SyncReport? { sync?.report }
}
