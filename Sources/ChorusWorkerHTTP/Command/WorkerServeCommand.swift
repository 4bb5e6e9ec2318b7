public import ArgumentParser
import ChorusCompute
import Foundation

/// `worker serve`: the built-in CPU worker over HTTP (Specs/worker.md §11). Public so that every
/// executable can mount it (`chorus worker serve`, `chorusd worker serve`).
public struct WorkerServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the built-in CPU worker over HTTP; prints `READY <url>` when it accepts connections.",
        discussion: """
            Runs until SIGINT or SIGTERM, then stops PoC jobs after their current batch and exits 0.

            EXAMPLES:
              serve --listen 127.0.0.1:8090 --model synthetic:devnet --model smollm2-135m
              serve --listen 0.0.0.0:8090 --token "$(cat worker.token)"
              serve --listen unix:/run/chorus/worker.sock
            """)

    @Option(help: "HOST:PORT (port 0 picks a free port) or unix:PATH.")
    public var listen = "127.0.0.1:8090"

    @Option(help: "Bearer token clients must send (default: $CHORUS_WORKER_TOKEN); required beyond loopback.")
    public var token: String?

    @Option(name: .customLong("model"), help: "Load a model at start (repeatable): smollm2-135m, synthetic:tiny, synthetic:devnet, ID=PATH.")
    public var models: [String] = []

    public init() {}

    /// A failure while starting (exit status 1 with this message).
    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public func run() async throws {
        guard let address = WorkerHTTPServer.ListenAddress(listen) else {
            throw ValidationError("--listen must be HOST:PORT or unix:PATH, got '\(listen)'")
        }
        let service = WorkerService()
        for name in models {
            let entry: WorkerModelCatalog
            do { entry = try WorkerModelCatalog.resolve(name) } catch { throw ValidationError("--model: \(error)") }
            guard let load = entry.load else { throw ValidationError("--model \(name): give a catalog name or ID=PATH") }
            do {
                _ = try await service.loadModel(load)
            } catch {
                throw StartFailure(description: "cannot load \(name): \(error)")
            }
        }
        let token = token ?? ProcessInfo.processInfo.environment["CHORUS_WORKER_TOKEN"]
        let server: WorkerHTTPServer
        do {
            server = try await WorkerHTTPServer.start(worker: service, listen: address, token: token)
        } catch {
            throw StartFailure(description: "\(error)")
        }
        // Unbuffered, so a supervisor reading the pipe sees the line at once.
        FileHandle.standardOutput.write(Data("READY \(server.url)\n".utf8))
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        await signals.wait()
        _ = await service.stop()
        await server.stop()
    }
}

/// Waits for one of `signals`, delivered through Dispatch instead of the default handlers (which
/// would kill the process before jobs stop).
final class SignalWaiter {
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Int32>

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
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
