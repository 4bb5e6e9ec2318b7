import ArgumentParser
import ChorusNode

/// `--data-dir`, shared by the commands that talk to a running node over its control socket.
/// It may also come first: `chorus --data-dir DIR status` (see `Chorus.hoistingRootOptions`).
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The node's data directory (its control socket is DIR/control.sock).")
    var dataDir: String

    /// Sends `method` to the node and decodes its result, turning failures into exit status 1.
    func call<R: Codable & Sendable>(_ method: String, params: [String: String] = [:], as type: R.Type) async throws -> R {
        let directory = DataDirectory(dataDir)
        do {
            return try await ControlClient.call(ControlRequest(method: method, params: params),
                                                socketPath: directory.controlSocket, as: type)
        } catch let error where error.isConnectFailure {
            // No node answers: say what is wrong with the directory itself when something is
            // (missing, a file, another user's, never initialized) rather than "is chorusd running?".
            if let problem = directory.problem(readingFiles: false) { throw CLIFailure.failed(problem.description) }
            throw CLIFailure.failed(error.description)
        } catch {
            throw CLIFailure.failed(error.description)
        }
    }
}

extension ControlClientError {
    /// The socket could not be reached at all (as opposed to a node that answered badly).
    var isConnectFailure: Bool {
        switch self {
        case .cannotConnect, .permissionDenied: true
        case .timedOut, .malformedAnswer, .nodeError: false
        }
    }
}
