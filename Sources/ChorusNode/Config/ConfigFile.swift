import ChorusMesh
import Foundation
import ChorusTOML
import Logging

/// The node's `config.toml`: the commented template `chorusd init` writes, and the strict reader
/// that turns it into a `NodeConfiguration`. Unknown keys are errors (a typo must not silently
/// fall back to a default), and every error names the file, the key and what was expected.
public enum ConfigFile {
    /// The text `chorusd init` writes: every setting with its default and what it does.
    public static func template(networkID: String, listen: String) -> String {
        """
        # Chorus node configuration, read by `chorusd run --data-dir DIR`.
        # Command-line flags (--listen, --seed) override the values here.
        # SIGHUP (kill -HUP PID) re-reads this file and applies log_level, seeds, the keys in
        # api_keys_file and [api] without a restart (and reopens log_file); the other settings
        # are read at start only (the reload's log line names any that changed).

        # The network this node belongs to. It is mixed into every handshake and every signed
        # statement, so nodes of different networks never talk to each other.
        network = "\(networkID)"

        # TCP addresses to listen on: "host:port", "[v6]:port" for IPv6. Port 0 picks a free port.
        listen = ["\(listen)"]

        # The address announced to peers so they can dial back. When absent, the first listen
        # address is announced unless it is a wildcard (0.0.0.0 or [::]).
        # advertise = "203.0.113.7:7700"

        # Addresses dialed at start, besides the peers remembered in the store.
        seeds = []

        # Accept private and loopback addresses from peer exchange (devnets, labs). Public networks: false.
        allow_private_addresses = \(networkID == NodeConfiguration.defaultNetworkID || listen.hasPrefix("127.") || listen.hasPrefix("[::1]"))

        # Gossip topics this node joins at start (1-64 characters of a-z 0-9 / . _ -).
        topics = ["\(NodeConfiguration.defaultTopic)"]

        # PoC (with `chorusd run --network-file`): the models this node loads and runs PoC for
        # (ids from the network file; "ID=PATH" for a GGUF file elsewhere), and the worker that
        # runs them. Without worker_url the built-in in-process worker is used.
        # models = ["chorus/synthetic-devnet"]
        # worker_url = "http://127.0.0.1:8080"
        # worker_token_file = "worker.token"   # the HTTP worker's bearer token (relative: to this directory)
        # The signed peer record announces the models loaded here and the role ("verify-only"
        # with `chorusd run --verify-only`, else "full").

        # The admin HTTP listener: /metrics (Prometheus), /healthz, /readyz; `chorusd run
        # --admin-listen` overrides. No authentication: keep it on loopback or a firewalled address.
        # Default: 127.0.0.1 on the first listen port + 2000 (7700 -> 9700).
        # admin_listen = "127.0.0.1:9700"      # or "unix:admin.sock", or "off"

        # The OpenAI-compatible API (POST /v1/chat/completions, /v1/completions, GET /v1/models,
        # /health) serving the models above; `chorusd run --api-listen` overrides. Keep it on
        # loopback unless api_keys_file is set: without keys anyone who reaches it may use it.
        # api_listen = "127.0.0.1:8700"
        # api_keys_file = "api.keys"           # one key per line; clients send "Authorization: Bearer KEY"

        # Logging: the lowest level logged (trace, debug, info, notice, warning, error, critical;
        # `chorusd run --log-level` overrides), and a JSON-lines file written besides stderr (one
        # object per line; relative: to this directory). A file that would pass log_file_max_bytes
        # is renamed to FILE.1 (replacing the last one) and started afresh: at most twice that on disk.
        # log_level = "info"
        # log_file = "chorusd.jsonl"
        # log_file_max_bytes = 67108864       # 64 MiB

        # The API's request budget per key (without api_keys_file: one budget for all callers).
        # [api]
        # requests_per_minute = 600
        # burst = 60                          # requests at once after an idle while

        [connections]
        outbound_target = 8          # outbound connections kept
        inbound_limit = 48           # inbound connections accepted at most
        inbound_per_group = 3        # inbound per /24 (IPv4) or /64 (IPv6); 0 disables the rule
        handshake_timeout_ms = 5000  # a handshake not finished in time closes the connection
        ban_seconds = 600            # how long a peer that broke the protocol is refused
        redial_base_ms = 250         # first re-dial delay; doubles per failure (jittered), forever
        redial_max_ms = 30000        # the longest re-dial delay

        [session]
        max_message_bytes = 4194304  # the largest application message (4 MiB)
        keepalive_interval_ms = 5000 # ping period; also measures the round-trip time
        idle_timeout_ms = 20000      # a session that receives nothing this long is closed

        [statements]
        # With a network file: statements of epochs before (current - retention_epochs) are deleted
        # (final tables and their certificates are kept) and no longer reconciled with peers.
        # At least 2. `chorus epoch export N` needs epochs N and N-1 to be kept.
        retention_epochs = \(NodeConfiguration.defaultRetentionEpochs)
        sync_index_max_ids = \(NodeConfiguration.defaultSyncIndexCapacity)  # ids anti-entropy keeps in memory (32 bytes each)

        """
    }

    /// Reads and validates the configuration file at `path`.
    public static func load(_ path: String) throws(ConfigError) -> NodeConfiguration {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, key: nil, problem: "cannot read it (\(error.localizedDescription)); run `chorusd init` first")
        }
        return try parse(text, file: path)
    }

    /// Parses configuration text; `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> NodeConfiguration {
        let root: TOMLTable
        do { root = try TOMLParser.parse(text) } catch {
            throw ConfigError(file: file, key: nil, problem: "not valid TOML at line \(error.line), column \(error.column): \(error.reason)")
        }
        let reader = Reader(file: file)
        try reader.allowOnly(["network", "listen", "advertise", "seeds", "topics", "allow_private_addresses",
                              "connections", "session", "statements", "worker_url", "worker_token_file", "models", "admin_listen",
                              "api_listen", "api_keys_file", "log_level", "log_file", "log_file_max_bytes", "api"],
                              in: root, prefix: "")

        var config = NodeConfiguration(networkID: try reader.string("network", in: root))
        config.listen = try reader.strings("listen", in: root) ?? config.listen
        config.advertise = try reader.optionalString("advertise", in: root)
        config.seeds = try reader.strings("seeds", in: root) ?? []
        config.topics = try reader.strings("topics", in: root) ?? config.topics
        config.workerURL = try reader.optionalString("worker_url", in: root)
        config.workerTokenFile = try reader.optionalString("worker_token_file", in: root)
        config.models = try reader.strings("models", in: root) ?? []
        config.adminListen = try reader.optionalString("admin_listen", in: root)
        if let admin = config.adminListen, !Self.isAdminListen(admin) {
            throw ConfigError(file: file, key: "admin_listen", problem: "\"\(admin)\": expected \"HOST:PORT\", \"[IPv6]:PORT\", \"unix:PATH\" or \"off\"")
        }
        config.apiListen = try reader.optionalString("api_listen", in: root)
        config.apiKeysFile = try reader.optionalString("api_keys_file", in: root)
        if let level = try reader.optionalString("log_level", in: root) {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ConfigError(file: file, key: "log_level", problem: "\"\(level)\": expected one of "
                                  + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
            }
            config.logLevel = parsed
        }
        config.logFile = try reader.optionalString("log_file", in: root)
        config.logFileMaxBytes = try reader.int("log_file_max_bytes", in: root, prefix: "", range: 4096...(1 << 40))
            ?? config.logFileMaxBytes
        if let table = try reader.table("api", in: root) {
            try reader.allowOnly(["requests_per_minute", "burst"], in: table, prefix: "api.")
            config.apiRequestsPerMinute = try reader.int("requests_per_minute", in: table, prefix: "api.", range: 1...10_000_000)
            config.apiBurst = try reader.int("burst", in: table, prefix: "api.", range: 1...1_000_000)
        }
        if let value = root["allow_private_addresses"] {
            guard let flag = value.bool else { throw ConfigError(file: file, key: "allow_private_addresses", problem: "expected true or false, found \(value.typeName)") }
            config.allowPrivateAddresses = flag
        }
        for topic in config.topics where !Node.isValidTopic(topic) {
            throw ConfigError(file: file, key: "topics", problem: "\"\(topic)\" must be 1-64 characters of a-z 0-9 / . _ -")
        }
        for address in config.listen + config.seeds + (config.advertise.map { [$0] } ?? []) {
            do { _ = try NetAddress(parsing: address) } catch {
                throw ConfigError(file: file, key: nil, problem: "\(error)")
            }
        }

        if let table = try reader.table("connections", in: root) {
            try reader.allowOnly(["outbound_target", "inbound_limit", "inbound_per_group", "handshake_timeout_ms",
                                  "ban_seconds", "redial_base_ms", "redial_max_ms"], in: table, prefix: "connections.")
            var c = config.connections
            c.outboundTarget = try reader.int("outbound_target", in: table, prefix: "connections.", range: 0...1024) ?? c.outboundTarget
            c.inboundLimit = try reader.int("inbound_limit", in: table, prefix: "connections.", range: 0...65536) ?? c.inboundLimit
            if let perGroup = try reader.int("inbound_per_group", in: table, prefix: "connections.", range: 0...65536) {
                c.inboundPerGroup = perGroup == 0 ? nil : perGroup
            }
            c.handshakeTimeout = try reader.milliseconds("handshake_timeout_ms", in: table, prefix: "connections.") ?? c.handshakeTimeout
            if let seconds = try reader.int("ban_seconds", in: table, prefix: "connections.", range: 0...(30 * 86_400)) {
                c.banDuration = .seconds(seconds)
            }
            c.redialBase = try reader.milliseconds("redial_base_ms", in: table, prefix: "connections.") ?? c.redialBase
            c.redialMax = try reader.milliseconds("redial_max_ms", in: table, prefix: "connections.") ?? c.redialMax
            config.connections = c
        }
        if let table = try reader.table("session", in: root) {
            try reader.allowOnly(["max_message_bytes", "keepalive_interval_ms", "idle_timeout_ms"], in: table, prefix: "session.")
            config.maxMessageSize = try reader.int("max_message_bytes", in: table, prefix: "session.", range: 1024...(256 << 20)) ?? config.maxMessageSize
            config.keepaliveInterval = try reader.milliseconds("keepalive_interval_ms", in: table, prefix: "session.") ?? config.keepaliveInterval
            config.idleTimeout = try reader.milliseconds("idle_timeout_ms", in: table, prefix: "session.") ?? config.idleTimeout
        }
        if let table = try reader.table("statements", in: root) {
            try reader.allowOnly(["retention_epochs", "sync_index_max_ids"], in: table, prefix: "statements.")
            let minimum = Int(NodeConfiguration.minimumRetentionEpochs)
            if let epochs = try reader.int("retention_epochs", in: table, prefix: "statements.", range: minimum...1_000_000_000) {
                config.retentionEpochs = UInt64(epochs)
            }
            config.syncIndexCapacity = try reader.int("sync_index_max_ids", in: table, prefix: "statements.", range: 1...(1 << 30))
                ?? config.syncIndexCapacity
        }
        return config
    }

    /// The forms `admin_listen` takes (ChorusAdmin parses them; this only rejects a typo at load).
    static func isAdminListen(_ text: String) -> Bool {
        if text == "off" { return true }
        if text.hasPrefix("unix:") { return text.count > 5 }
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]) else { return false }
        return (0...65_535).contains(port)
    }

    /// Typed access to TOML values with errors that name the key.
    private struct Reader {
        let file: String

        func fail(_ key: String, _ problem: String) -> ConfigError { ConfigError(file: file, key: key, problem: problem) }

        func allowOnly(_ keys: Set<String>, in table: TOMLTable, prefix: String) throws(ConfigError) {
            for key in table.keys where !keys.contains(key) {
                throw fail(prefix + key, "unknown setting; expected one of \(keys.sorted().joined(separator: ", "))")
            }
        }

        func string(_ key: String, in table: TOMLTable) throws(ConfigError) -> String {
            guard let value = try optionalString(key, in: table) else { throw fail(key, "missing; expected a string") }
            return value
        }

        func optionalString(_ key: String, in table: TOMLTable) throws(ConfigError) -> String? {
            guard let value = table[key] else { return nil }
            guard let string = value.string else { throw fail(key, "expected a string, found \(value.typeName)") }
            return string
        }

        func strings(_ key: String, in table: TOMLTable) throws(ConfigError) -> [String]? {
            guard let value = table[key] else { return nil }
            guard let array = value.array else { throw fail(key, "expected an array of strings, found \(value.typeName)") }
            var strings: [String] = []
            for element in array {
                guard let string = element.string else { throw fail(key, "expected an array of strings, found an element of type \(element.typeName)") }
                strings.append(string)
            }
            return strings
        }

        func table(_ key: String, in table: TOMLTable) throws(ConfigError) -> TOMLTable? {
            guard let value = table[key] else { return nil }
            guard let sub = value.table else { throw fail(key, "expected a table [\(key)], found \(value.typeName)") }
            return sub
        }

        func int(_ key: String, in table: TOMLTable, prefix: String, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let int = value.int else { throw fail(prefix + key, "expected an integer, found \(value.typeName)") }
            guard range.contains(int) else { throw fail(prefix + key, "\(int) is out of range; expected \(range.lowerBound)...\(range.upperBound)") }
            return int
        }

        func milliseconds(_ key: String, in table: TOMLTable, prefix: String) throws(ConfigError) -> Duration? {
            try int(key, in: table, prefix: prefix, range: 1...86_400_000).map { .milliseconds($0) }
        }
    }
}

/// A configuration file that cannot be used, with the file, the key and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let key: String?
    public let problem: String

    public var description: String {
        key.map { "\(file): \($0): \(problem)" } ?? "\(file): \(problem)"
    }
}
