import ChorusLoop

/// Control methods of the epoch protocol beyond `epoch` and `weights` (Specs/control.md):
/// `declare` (delegate / refuse / intent) and `epoch-export`.
extension Node {
    func epochControlRequest(_ request: ControlRequest, on connection: LoopBound<ControlConnection>) {
        switch request.method {
        case "declare":
            do throws(NodeError) {
                guard let model = request.params["model"], !model.isEmpty else { throw .invalidRequest("declare needs params.model: a model id of the network file") }
                let action = try Self.delegationAction(request.params)
                reply(ControlResponse(result: try declare(model: model, action: action)), on: connection)
            } catch {
                reply(ControlResponse<DeclareResult>(error: error.description), on: connection)
            }
        case "epoch-export":
            do throws(NodeError) {
                guard let text = request.params["epoch"], let epoch = UInt64(text) else { throw .invalidRequest("epoch-export needs params.epoch: an epoch number") }
                reply(ControlResponse(result: try exportEpoch(epoch)), on: connection)
            } catch {
                reply(ControlResponse<String>(error: error.description), on: connection)
            }
        default:
            reply(ControlResponse<String>(error: "unknown epoch method \"\(request.method)\""), on: connection)
        }
    }
}
