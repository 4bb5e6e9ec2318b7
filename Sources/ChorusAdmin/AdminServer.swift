public import ChorusHTTP
public import ChorusNode
import Foundation
public import Logging
public import Prometheus

/// The admin HTTP listener of `chorusd run` (`admin_listen`, `--admin-listen`): `/metrics`,
/// `/healthz` and `/readyz` for Prometheus and for orchestrators' probes (README "Metrics and
/// health"), and the status page `/` with `/status.json` for people. Loopback by default: the metrics are not secret, but they say a lot about the node,
/// and nothing here authenticates.
public final class AdminServer: Sendable {
    public struct Options: Sendable {
        /// `/healthz` fails while the event loop lags (or has not run) longer than this.
        public var lagBound: Duration = .seconds(1)
        /// How long `/metrics` and `/readyz` wait for the node's actor.
        public var nodeTimeout: Duration = .seconds(2)
        /// Requests answered at once; more get 503.
        public var maxInFlight = 8
        /// An idle keep-alive connection is closed after this.
        public var idleTimeout: Duration = .seconds(10)
        /// Connections open at once; one more is closed before it is read (a scraper and a prober
        /// or two need a handful; the node's peers share the process's descriptors).
        public var maxConnections = 32

        public init() {}
    }

    private let listener: HTTPListener
    private let inFlight: InFlightLimit

    /// Requests being answered now.
    public var requestsInFlight: Int { inFlight.count }

    /// `http://HOST:PORT` (the bound port when 0 was asked) or `http+unix://...`.
    public var url: String { listener.url }

    private init(listener: HTTPListener, inFlight: InFlightLimit) {
        self.listener = listener
        self.inFlight = inFlight
    }

    /// Binds `listen` and serves `node`'s metrics from `registry` (the registry of the
    /// `ChorusMetricsFactory` the node was made with). `flag` names the setting in bind errors.
    public static func start(node: Node, registry: PrometheusCollectorRegistry, listen: ListenAddress, flag: String = "--admin-listen",
                             options: Options = Options()) async throws(ListenError) -> AdminServer {
        let inFlight = InFlightLimit(limit: options.maxInFlight)
        let responder = AdminResponder(node: node, registry: registry, options: options, inFlight: inFlight)
        return AdminServer(listener: try await HTTPListener.start(responder, listen: listen, flag: flag, serverName: "chorus-admin",
                                                                   idleTimeout: options.idleTimeout,
                                                                   maxConnections: ConnectionLimit(limit: options.maxConnections)),
                           inFlight: inFlight)
    }

    /// Stops accepting connections and shuts the listener down.
    public func stop() async {
        await listener.stop()
    }

    /// What `chorusd run` does with its setting (`--admin-listen`, else the config's `admin_listen`):
    /// `off` starts nothing; an address given starts there or fails; with none, the default address
    /// (`AdminListen.defaultAddress`) is tried and a failure to bind it is only logged, so a busy
    /// port never keeps a node from running.
    public static func launch(node: Node, registry: PrometheusCollectorRegistry, setting: String?, nodeListen: [String],
                              logger: Logger) async throws(AdminListenError) -> AdminServer? {
        let choice = try AdminListen(setting)
        let listen: ListenAddress
        switch choice {
        case .off:
            logger.info("admin listener off")
            return nil
        case let .address(address):
            listen = address
        case .default:
            listen = AdminListen.defaultAddress(nodeListen: nodeListen)
        }
        let server: AdminServer
        do { server = try await start(node: node, registry: registry, listen: listen) } catch {
            guard choice == .default else { throw .cannotListen(error) }
            logger.warning("admin listener not started (set admin_listen or --admin-listen to choose another address, or off)",
                           metadata: ["error": "\(error)"])
            return nil
        }
        logger.info("admin listener", metadata: ["url": "\(server.url)", "endpoints": "/ /status.json /metrics /healthz /readyz"])
        if !listen.isLocalOnly {
            logger.warning("the admin listener is reachable from other machines and has no authentication; firewall it",
                           metadata: ["address": "\(listen)"])
        }
        return server
    }
}

/// The admin listener setting: `off`, an address (`HOST:PORT`, `[v6]:PORT`, `unix:PATH`), or none.
public enum AdminListen: Sendable, Equatable {
    case off
    case address(ListenAddress)
    case `default`

    public init(_ setting: String?) throws(AdminListenError) {
        guard let setting, !setting.isEmpty else {
            self = .default
            return
        }
        if setting == "off" {
            self = .off
            return
        }
        guard let address = ListenAddress(setting) else { throw .invalid(setting) }
        self = .address(address)
    }

    /// Loopback on the node's first listen port + 2000 (so several nodes on one machine, as in the
    /// devnet, get one each), or a free port when that is 0 or out of range.
    public static func defaultAddress(nodeListen: [String]) -> ListenAddress {
        let port = nodeListen.first.flatMap { ListenAddress($0) }.flatMap { address -> Int? in
            if case let .tcp(_, port) = address, port > 0, port + 2000 <= 65_535 { return port + 2000 }
            return nil
        }
        return .tcp(host: "127.0.0.1", port: port ?? 0)
    }
}

public enum AdminListenError: Error, Sendable, CustomStringConvertible {
    case invalid(String)
    case cannotListen(ListenError)

    public var description: String {
        switch self {
        case let .invalid(text):
            "admin listener \"\(text)\": expected HOST:PORT, [IPv6]:PORT, unix:PATH or off"
        case let .cannotListen(error):
            error.description
        }
    }
}
