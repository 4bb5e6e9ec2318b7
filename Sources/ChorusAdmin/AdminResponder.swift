import ChorusNode
import Foundation
import Hummingbird
import NIOCore
import Prometheus
import Synchronization

/// Answers the admin listener's GET endpoints (README "Metrics and health", "Status page"):
/// `/metrics` (Prometheus text format), `/healthz` (alive, loop lag under a bound), `/readyz`
/// (peers, worker, epochs), `/` (the status page, static) and `/status.json` (what the page polls).
/// It never reads a request body, refuses every method but GET, and serves at most `maxInFlight`
/// requests at once: scrapes wait on the node, and a flood of them must not queue without end.
struct AdminResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let node: Node
    let registry: PrometheusCollectorRegistry
    let options: AdminServer.Options
    let inFlight: InFlightLimit

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get else {
            return Self.json(["error": "method not allowed: the admin listener serves GET only"], status: .methodNotAllowed,
                             headers: [.allow: "GET"])
        }
        if request.headers[.transferEncoding] != nil || (request.headers[.contentLength].map { $0 != "0" } ?? false) {
            return Self.json(["error": "the admin listener takes no request body"], status: .contentTooLarge)
        }
        guard inFlight.enter() else {
            return Self.json(["error": "too many admin requests at once (\(inFlight.limit)); retry"], status: .serviceUnavailable)
        }
        defer { inFlight.leave() }
        switch request.uri.path {
        case "/metrics": return await metrics()
        case "/healthz": return healthz()
        case "/readyz": return await readyz()
        case "/": return statusPage()
        case "/status.json": return await statusJSON()
        default:
            return Self.json(["error": "not found: the admin listener serves /, /status.json, /metrics, /healthz and /readyz"],
                             status: .notFound)
        }
    }

    /// Samples the node (when it answers in time; else the last sample is served) and emits the registry.
    private func metrics() async -> Response {
        let node = self.node
        _ = await withDeadline(options.nodeTimeout) { await node.recordMetrics() }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    private func healthz() -> Response {
        let body = health()
        return Self.json(body, status: body.reason == nil ? .ok : .serviceUnavailable)
    }

    private func health() -> AdminHealth {
        let reading = node.loopLag.reading()
        let lag = Double(reading.lastLag.components.seconds) + Double(reading.lastLag.components.attoseconds) / 1e18
        if let problem = node.loopLag.problem(bound: options.lagBound) {
            return AdminHealth(status: "unhealthy", reason: problem, loopLagSeconds: lag)
        }
        return AdminHealth(status: "ok", reason: nil, loopLagSeconds: lag)
    }

    /// The page itself never changes: everything live comes from `/status.json`. The policy lets
    /// it load nothing but itself and that JSON, so nothing a peer names can pull in a resource.
    private func statusPage() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = StatusPageHTML.contentSecurityPolicy
        headers[.cacheControl] = "no-cache"
        headers[HTTPFields.Element.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPFields.Element.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: StatusPageHTML.page)))
    }

    /// The health reading, the readiness checks and the node's bounded snapshot, taken in one call
    /// into the node (so the page sees one moment); 200 even when the node is slow, since the
    /// page must show that rather than fail.
    private func statusJSON() async -> Response {
        let node = self.node
        let health = health()
        guard let answer = await withDeadline(options.nodeTimeout, { await node.statusAnswer() }) else {
            let error = "the node did not answer within \(options.nodeTimeout) (its event loop is busy or stuck)"
            return Self.json(StatusBody(health: health, ready: nil, failed: ["node": error], node: nil, error: error), status: .ok,
                             headers: [.cacheControl: "no-store"])
        }
        return Self.json(StatusBody(health: health, ready: answer.readiness.ready, failed: answer.readiness.failed, node: answer.snapshot,
                                    error: nil), status: .ok, headers: [.cacheControl: "no-store"])
    }

    private func readyz() async -> Response {
        let node = self.node
        guard let readiness = await withDeadline(options.nodeTimeout, { await node.readiness() }) else {
            let failed = ["node": "the node did not answer within \(options.nodeTimeout) (its event loop is busy or stuck)"]
            return Self.json(ReadyBody(status: "not ready", failed: failed), status: .serviceUnavailable)
        }
        var body = ReadyBody(status: readiness.ready ? "ready" : "not ready", failed: readiness.failed)
        body.peers = readiness.peers
        body.workerHealthy = readiness.workerHealthy
        body.epoch = readiness.epoch
        body.lastFinalEpoch = readiness.lastFinalEpoch
        return Self.json(body, status: readiness.ready ? .ok : .serviceUnavailable)
    }

    /// What was checked (absent when the node did not answer) and each failed check with why.
    struct ReadyBody: Encodable {
        var status: String
        var failed: [String: String]
        var peers: Int?
        var workerHealthy: Bool?
        var epoch: UInt64?
        var lastFinalEpoch: UInt64?
        enum CodingKeys: String, CodingKey {
            case status, failed, peers, epoch
            case workerHealthy = "worker_healthy"
            case lastFinalEpoch = "last_final_epoch"
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"cannot encode the answer"}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data + [0x0A])))
    }
}

/// Counts requests being answered; `enter` refuses one past `limit`.
final class InFlightLimit: Sendable {
    let limit: Int
    private let current = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    func enter() -> Bool {
        let now = current.add(1, ordering: .relaxed).newValue
        guard now <= limit else {
            current.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    var count: Int { current.load(ordering: .relaxed) }

    func leave() {
        current.subtract(1, ordering: .relaxed)
    }
}
