import ArgumentParser
import ChorusCompute
import ChorusWorkerHTTP
import Foundation

/// `chorus worker serve`: the built-in worker over HTTP (Specs/worker.md). Reusable as a
/// subcommand of other executables (e.g. `chorusd worker serve`).
struct WorkerServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the built-in CPU worker over HTTP; prints `READY <url>` when it accepts connections.")

    @Option(help: "HOST:PORT (port 0 picks a free port) or unix:PATH.")
    var listen = "127.0.0.1:8090"

    @Option(help: "Bearer token clients must send (default: $CHORUS_WORKER_TOKEN); required beyond loopback.")
    var token: String?

    @Option(name: .customLong("model"), help: "Load a model at start (repeatable): smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH.")
    var models: [String] = []

    func run() async throws {
        guard let address = WorkerHTTPServer.ListenAddress(listen) else {
            throw CLIFailure.usage("--listen must be HOST:PORT or unix:PATH, got '\(listen)'")
        }
        let service = WorkerService()
        for name in models {
            let entry = try CatalogModel.resolve(name)
            guard let load = entry.load else { throw CLIFailure.usage("--model \(name): give a catalog name or ID=PATH") }
            _ = try await workerCall { try await service.loadModel(load) }
        }
        let token = token ?? ProcessInfo.processInfo.environment["CHORUS_WORKER_TOKEN"]
        let server: WorkerHTTPServer
        do {
            server = try await WorkerHTTPServer.start(worker: service, listen: address, token: token)
        } catch {
            throw CLIFailure.failed("\(error)")
        }
        // Unbuffered, so a supervisor reading the pipe sees the line at once.
        FileHandle.standardOutput.write(Data("READY \(server.url)\n".utf8))
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        await signals.wait()
        _ = await service.stop()
        await server.stop()
    }
}

/// Waits for one of `signals` (delivered through Dispatch instead of the default handlers).
final class SignalWaiter {
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation

    init(signals: [Int32]) {
        (stream, continuation) = AsyncStream<Int32>.makeStream()
        let continuation = self.continuation
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
    }

    func wait() async {
        for await _ in stream { return }
    }
}
