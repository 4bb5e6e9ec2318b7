public import ChorusHTTP
public import ChorusInference
public import CoreMetrics
import Foundation

/// The OpenAI-compatible API of a node (`chorusd run --api-listen HOST:PORT`): serves
/// `POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models` and `GET /health`
/// from an `InferenceBackend`.
public final class APIServer: Sendable {
    private let listener: HTTPListener
    /// Its keys and rates; `APIAccess.reload` replaces them while the server runs.
    public let access: APIAccess

    public var url: String { listener.url }

    private init(listener: HTTPListener, access: APIAccess) {
        self.listener = listener
        self.access = access
    }

    /// Binds and starts serving; returns once connections are accepted. `flag` is the option that
    /// chose `listen`, named in bind errors. With `metrics` (the node's Prometheus factory) requests
    /// are recorded under vLLM's metric names (APIMetrics.swift).
    public static func start(backend: any InferenceBackend, listen: ListenAddress, access: APIAccess,
                             limits: APILimits = APILimits(), flag: String = "--api-listen",
                             metrics: (any MetricsFactory)? = nil) async throws(ListenError) -> APIServer {
        let backend = metrics.map { MeteredInferenceBackend(backend: backend, factory: $0) } ?? backend
        let responder = APIResponder(backend: backend, access: access, limits: limits, inFlight: InFlightCounter(),
                                     unixSeconds: { Int(Date().timeIntervalSince1970) })
        // Streams may idle between tokens while a busy worker computes; a long idle timeout keeps
        // them open, and the concurrency bound caps what idle connections can hold.
        let listener = try await HTTPListener.start(responder, listen: listen, flag: flag, serverName: "chorus-api",
                                                    idleTimeout: .seconds(300))
        return APIServer(listener: listener, access: access)
    }

    public func stop() async {
        await listener.stop()
    }
}
