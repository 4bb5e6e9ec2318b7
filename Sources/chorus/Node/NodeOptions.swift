import ArgumentParser
import ChorusNode

/// `--data-dir`, shared by the commands that talk to a running node over its control socket.
/// It may also come first: `chorus --data-dir DIR status` (see `Chorus.hoistingRootOptions`).
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The node's data directory (its control socket is DIR/control.sock).")
    var dataDir: String

    /// Sends `method` to the node and decodes its result, turning failures into exit status 1.
    func call<R: Codable & Sendable>(_ method: String, params: [String: String] = [:], as type: R.Type) async throws -> R {
        do {
            return try await ControlClient.call(ControlRequest(method: method, params: params),
                                                socketPath: DataDirectory(dataDir).controlSocket, as: type)
        } catch {
            throw CLIFailure.failed(error.description)
        }
    }
}
