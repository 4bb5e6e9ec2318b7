import ChorusCrypto

/// Statements that arrive in anti-entropy batches go through the same intake as gossip
/// (Services/Intake/StatementIntake.swift): verified off the loop in chunks, then committed.
extension Node {
    /// Ingests a batch a peer sent in sync; a peer that sent invalid statements is disconnected.
    /// `done` runs on the loop once the whole batch is committed (`chorus-bench ingest` paces
    /// its simulated peers with it, as a peer's next fetch answer follows the last).
    package func ingestSynced(_ batch: [[UInt8]], from peer: Ed25519.PublicKey,
                              done: @escaping (StatementIntake.BatchResult) -> Void = { _ in }) {
        intake.ingest(batch, from: peer) { [weak self] result in
            self?.assumeIsolated { node in
                node.counters.syncedStatements += result.stored
                if result.rejected > 0 { node.misbehaved(peer, because: "sent \(result.rejected) invalid statements in sync") }
            }
            done(result)
        }
    }
}
