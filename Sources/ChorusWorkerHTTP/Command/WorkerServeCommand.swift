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

            A worker on TCP always needs a bearer token, on loopback too (every local user reaches \
            127.0.0.1); a Unix socket is created mode 0600 and needs none. Clients may load model files \
            only from --model-dir; --model loads anything the operator names.

            EXAMPLES:
              serve --listen 127.0.0.1:8090 --token-file worker.token --model synthetic:devnet --model smollm2-135m
              chorus worker info --worker http://127.0.0.1:8090 --token-file worker.token
              serve --listen 0.0.0.0:8090 --token "$(cat worker.token)" --model-dir /srv/models
              serve --listen unix:/run/chorus/worker.sock
            """)

    @Option(help: "HOST:PORT (port 0 picks a free port) or unix:PATH.")
    public var listen = "127.0.0.1:8090"

    @Option(help: "Bearer token clients must send (default: $CHORUS_WORKER_TOKEN, else --token-file); required on TCP.")
    public var token: String?

    @Option(help: "File holding the bearer token; created with a random token (mode 0600) if it does not exist.")
    public var tokenFile: String?

    @Option(help: "The only directory clients may load model files from (default: $CHORUS_MODEL_DIR, else ~/.cache/chorus/models).")
    public var modelDir: String?

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
            // Progress on stderr (stdout is the READY line a supervisor waits for): a GGUF file takes
            // seconds to read and check, and the operator should see what the worker waits on.
            let size = load.path.flatMap { (try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? Int }
            Self.progress("loading \(entry.id)" + (load.path.map { " from \($0)" } ?? " (synthetic)")
                          + (size.map { String(format: " (%.1f MB)", Double($0) / 1e6) } ?? ""))
            let started = ContinuousClock.now
            do {
                _ = try await service.loadModel(load)
            } catch {
                throw StartFailure(description: "cannot load \(name): \(error)")
            }
            let took = started.duration(to: .now).components
            Self.progress("loaded \(entry.id) in " + String(format: "%.1f s", Double(took.seconds) + Double(took.attoseconds) * 1e-18))
        }
        let token: String?
        do { token = try WorkerToken.resolve(token: self.token, file: tokenFile, createFile: true) } catch {
            throw StartFailure(description: "\(error)")
        }
        let access = WorkerAccess(token: token, modelDirectory: modelDir ?? WorkerModelCatalog.modelDirectory)
        let server: WorkerHTTPServer
        do {
            server = try await WorkerHTTPServer.start(worker: service, listen: address, access: access)
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

    private static func progress(_ line: String) {
        FileHandle.standardError.write(Data("worker serve: \(line)\n".utf8))
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
