import ChorusLoop
import ChorusProtocol

/// Control methods of the epoch protocol beyond `epoch` and `weights` (Specs/control.md):
/// `declare` (delegate / refuse / intent) and `epoch-export`.
extension Node {
    func declareRequest(model: String, action: DelegationAction, on connection: LoopBound<ControlConnection>) {
        guard epochs != nil else { return fail(.noEpochs, on: connection) }
        do throws(NodeError) {
            reply(ControlResponse(result: try declare(model: model, action: action)), on: connection)
        } catch {
            fail(ControlError(error), on: connection)
        }
    }

    func exportRequest(epoch: UInt64, on connection: LoopBound<ControlConnection>) {
        guard let state = epochs else { return fail(.noEpochs, on: connection) }
        guard statements != nil else { return fail(.noStore, on: connection) }
        guard epoch < 2 || state.finalTables[epoch - 1] != nil else { return fail(.noExportBase(epoch: epoch), on: connection) }
        do throws(NodeError) {
            reply(ControlResponse(result: try exportEpoch(epoch)), on: connection)
        } catch {
            fail(ControlError(error), on: connection)
        }
    }
}
