import ArgumentParser
import ChorusNode

/// `--data-dir`, shared by the commands that talk to a running node over its control socket.
/// It may also come first: `chorus --data-dir DIR status` (see `Chorus.hoistingRootOptions`).
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The node's data directory (its control socket is DIR/control.sock).")
    var dataDir: String

    /// Sends `request` to the node and decodes its result. A request the node would refuse as
    /// malformed is refused here (exit 2) before connecting; every other failure exits 1 with the
    /// node's (or the client's) error, its code kept for `--json`.
    func call<R: Codable & Sendable>(_ request: ControlRequest, as type: R.Type) async throws -> R {
        let request = try Self.validated(request)
        let directory = DataDirectory(dataDir)
        do {
            return try await ControlClient.call(request, socketPath: directory.controlSocket, as: type)
        } catch let error where error.isConnectFailure {
            // No node answers: say what is wrong with the directory itself when something is
            // (missing, a file, another user's, never initialized) rather than "is chorusd running?".
            if let problem = directory.problem(readingFiles: false) { throw CLIFailure.failed(problem.description, code: "data_directory") }
            throw CLIFailure(error)
        } catch {
            throw CLIFailure(error)
        }
    }

    static func validated(_ request: ControlRequest) throws(CLIFailure) -> ControlRequest {
        do throws(ControlError) { return try request.validated() } catch { throw CLIFailure(error) }
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
