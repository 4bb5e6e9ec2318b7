import ChorusProtocol
import ChorusWire

/// `chorus epoch export N`: one epoch from this node's store and final tables, in the
/// self-contained format of Specs/export.md (`EpochExport`).
extension Node {
    public func exportEpoch(_ epoch: UInt64) throws(NodeError) -> EpochExport {
        guard let state = epochs else { throw .invalidRequest("this node does not follow epochs (start it with --network-file)") }
        guard let statements else { throw .invalidRequest("this node keeps no statement store; nothing to export") }
        guard epoch >= 1 else { throw .invalidRequest("epoch 0 is the genesis table; export epochs from 1") }
        // An export carries the epoch before's beacon commits and confirmations too.
        if let floor = sync?.floor, floor > 0, epoch <= floor {
            throw .invalidRequest("epoch \(epoch - 1)'s statements were deleted here (retention_epochs keeps epochs from \(floor)); export epoch \(floor + 1) or later, or raise retention_epochs")
        }
        let parameters = state.engine.parameters
        let previous: WeightTable
        if epoch == 1 {
            previous = .genesis(parameters)
        } else if let table = state.finalTables[epoch - 1]?.table {
            previous = table
        } else {
            throw .invalidRequest("epoch \(epoch - 1) has no final table here, so epoch \(epoch) has no base to export; `chorus epoch show \(epoch - 1)` says why")
        }
        let scopes = (try? Self.exportScopes(statements)) ?? []
        func load(_ type: StatementType, _ e: UInt64) -> [SignedStatement] {
            Self.storedStatements(statements, type: type, epoch: e, policy: statementPolicy).statements
        }
        let held = scopes.filter { $0.epoch == epoch }.flatMap { load($0.type, epoch) }
        let delegations = scopes.filter { $0.type == .delegation && $0.epoch < epoch }.flatMap { load(.delegation, $0.epoch) }
        let final = state.finalTables[epoch]
        return EpochExport(
            networkID: parameters.networkID, epoch: epoch, networkFile: state.networkFile, parametersDigest: parameters.digest,
            previousTable: previous, statements: held, beaconCommits: load(.beaconCommit, epoch - 1), delegations: delegations,
            previousConfirmations: load(.confirmationCommit, epoch - 1) + load(.vote, epoch - 1), table: final?.table, certificate: final?.certificate)
    }

    private nonisolated static func exportScopes(_ store: StatementStore) throws -> [(type: StatementType, epoch: UInt64)] {
        try store.scopes()
    }
}
