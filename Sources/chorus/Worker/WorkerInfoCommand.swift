import ArgumentParser
import ChorusWorkerAPI

/// `chorus worker info`: what a worker is and holds.
struct WorkerInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the worker's backend, PoC support, limits and resident models.")

    @OptionGroup var connection: WorkerConnectionOptions

    @Flag(help: "Print the protocol's /v1/info object.")
    var json = false

    func run() async throws {
        let worker = try connection.connect()
        let info = try await workerCall { try await worker.info() }
        if json {
            try Console.printJSON(info)
            return
        }
        print("worker:  \(info.worker.name) \(info.worker.version) (protocol \(info.protocol))")
        print("backend: \(info.backend.name) on \(info.backend.device), \(info.backend.dtype)")
        print("poc:     \(info.poc.specs.joined(separator: ", ")), k_dim \(info.poc.kDim), default batch \(info.poc.defaultBatchSize)")
        if info.models.isEmpty {
            print("models:  none resident" + (connection.url == nil ? " (the in-process worker loads a model per command)" : ""))
        }
        for m in info.models {
            print("model:   \(m.id)  \(m.digest)  \(m.parameters) parameters, context \(m.config.contextLength)")
        }
    }
}
