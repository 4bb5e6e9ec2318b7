import ChorusAPI
import ChorusInference
import ChorusHTTP
import ChorusNode
import ChorusWorkerAPI
import Foundation

extension RunCommand {
    /// Starts the OpenAI-compatible API when `--api-listen` or the config's `api_listen` asks for
    /// it. It serves the models this node's worker keeps resident; a node without a model has
    /// nothing to serve yet, so asking for an API there is refused with what to add.
    static func startAPI(listen: String?, keysFile: String?, directory: DataDirectory, worker: (any WorkerAPI)?,
                         executor: String) async throws(DaemonFailure) -> APIServer? {
        guard let listen else { return nil }
        guard let address = ListenAddress(listen) else {
            throw .usage("--api-listen \(listen): expected HOST:PORT (e.g. 127.0.0.1:8700) or unix:PATH")
        }
        guard let worker else {
            throw .usage("--api-listen serves the models this node runs: add --model ID (with --network-file), or the config's models")
        }
        let keys = try apiKeys(keysFile.map { $0.hasPrefix("/") ? $0 : directory.path + "/" + $0 })
        do {
            return try await APIServer.start(backend: WorkerBackend(worker: worker, executor: executor), listen: address,
                                             access: APIAccess(keys: keys))
        } catch {
            throw .failed(error.description)
        }
    }

    /// One key per line; blank lines and `#` comments are skipped.
    static func apiKeys(_ path: String?) throws(DaemonFailure) -> [String] {
        guard let path else { return [] }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .failed("cannot read the API keys file \(path): \(error.localizedDescription); create it (one key per line) or drop api_keys_file")
        }
        let keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !keys.isEmpty else { throw .failed("the API keys file \(path) holds no key; add one per line or drop api_keys_file") }
        return keys
    }
}
