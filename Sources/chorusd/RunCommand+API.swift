import ChorusAdmin
import ChorusAPI
import ChorusInference
import ChorusHTTP
import ChorusNode
import ChorusWorkerAPI
import Foundation

extension RunCommand {
    /// Starts inference routing on `node` (serving on this node's worker when it runs models) and,
    /// when `--api-listen` or the config's `api_listen` asks for it, the OpenAI-compatible API,
    /// whose requests are drawn to executors of the model's group (Specs/inference-routing.md).
    /// `metrics` (the admin listener's factory) gets the API's vLLM-named inference metrics.
    static func startInference(node: Node, listen: String?, keysFile: String?, rate: APIAccess.Rate, directory: DataDirectory,
                               worker: (any WorkerAPI)?, metrics: ChorusMetricsFactory? = nil) async throws(DaemonFailure) -> APIServer? {
        let local = worker.map { WorkerBackend(worker: $0, executor: node.publicKey.hex) }
        await node.attachInference(local: local)
        guard let listen else { return nil }
        guard let address = ListenAddress(listen) else {
            throw .usage("--api-listen \(listen): expected HOST:PORT (e.g. 127.0.0.1:8700) or unix:PATH")
        }
        let keys = try apiKeys(keysFile.map { directory.resolve($0) })
        do {
            return try await APIServer.start(backend: MeshInferenceBackend(node: node, local: local), listen: address,
                                             access: APIAccess(keys: keys, rate: rate), metrics: metrics)
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
