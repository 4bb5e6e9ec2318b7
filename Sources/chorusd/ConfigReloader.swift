import ChorusAPI
import ChorusNode
import Logging

/// SIGHUP for `chorusd run`: re-reads config.toml and applies what can change under a running
/// node: `log_level`, new `seeds` (dialed at once), the keys in `api_keys_file` and the `[api]`
/// rates (buckets start full when either changes), and reopens the log file (for logrotate). A
/// file that no longer parses, or an unreadable keys file, changes nothing: the node keeps running
/// as it was and the log says why. The other settings were built into listeners, budgets and
/// services at start; one that changed is named in the log line as needing a restart.
/// Command-line flags keep precedence over the file, as at start (`--log-level`, `--seed`,
/// `--network-file`'s seeds, `--listen`, …).
actor ConfigReloader {
    let configFile: String
    let directory: DataDirectory
    /// The file's settings the running node was started with.
    let running: NodeConfiguration
    let levelFlag: Logger.Level?
    /// Seeds from flags and the network file, kept on every reload.
    let fixedSeeds: [String]
    let levels: LogLevelSwitch
    let logFile: JSONLogFile?
    let node: Node
    let api: APIServer?
    let logger: Logger
    /// Seeds this run has dialed (at start or on an earlier reload).
    private var seeds: Set<String>
    private var apiKeys: [String]
    private var apiRate: APIAccess.Rate

    init(configFile: String, directory: DataDirectory, running: NodeConfiguration, levelFlag: Logger.Level?,
         fixedSeeds: [String], levels: LogLevelSwitch, logFile: JSONLogFile?, node: Node, api: APIServer?,
         logger: Logger) {
        self.configFile = configFile
        self.directory = directory
        self.running = running
        self.levelFlag = levelFlag
        self.fixedSeeds = fixedSeeds
        self.levels = levels
        self.logFile = logFile
        self.node = node
        self.api = api
        self.logger = logger
        seeds = Set(running.seeds + fixedSeeds)
        // The keys the API was started with (read just before, from the same file).
        apiKeys = (try? RunCommand.apiKeys(running.apiKeysFile.map { directory.resolve($0) })) ?? []
        apiRate = RunCommand.apiRate(running)
    }

    /// One reload; logs one line saying what was applied (or why nothing was).
    func reload() async {
        let new: NodeConfiguration
        do { new = try ConfigFile.load(configFile) } catch {
            logger.error("configuration not reloaded: \(error); the node keeps its running configuration")
            return
        }
        var applied: [String] = []
        var metadata: Logger.Metadata = [:]

        let level = levelFlag ?? new.logLevel ?? .info
        if level != levels.current {
            levels.current = level
            applied.append("log_level")
        }
        metadata["log_level"] = "\(level)\(levelFlag != nil ? " (--log-level)" : "")"

        let added = (new.seeds + fixedSeeds).filter { !seeds.contains($0) }
        if !added.isEmpty {
            do {
                try await node.addSeeds(added)
                seeds.formUnion(added)
                applied.append("seeds")
                metadata["seeds_added"] = "\(added.joined(separator: ","))"
            } catch {
                logger.error("seeds not reloaded: \(error)")
            }
        }

        if let api {
            let rate = RunCommand.apiRate(new)
            do {
                let keys = try RunCommand.apiKeys(new.apiKeysFile.map { directory.resolve($0) })
                if keys != apiKeys || rate != apiRate {
                    api.access.reload(keys: keys, rate: rate)
                    if keys != apiKeys { applied.append("api_keys") }
                    if rate != apiRate { applied.append("api") }
                    if keys.isEmpty, !apiKeys.isEmpty {
                        logger.warning("api_keys_file dropped: the API is now open to anyone who can reach it")
                    }
                    (apiKeys, apiRate) = (keys, rate)
                }
                metadata["api_keys"] = "\(keys.count)"
                metadata["api_rate"] = "\(Int(rate.perMinute))/min burst \(Int(rate.burst))"
            } catch {
                logger.error("API keys not reloaded (the previous \(apiKeys.count) stay in force): \(error.message)")
            }
        }

        if let logFile {
            do { try logFile.reopen() } catch { logger.error("log file not reopened: \(error)") }
        }

        let restart = Self.needingRestart(running: running, new: new)
        if !restart.isEmpty { metadata["restart_needed"] = "\(restart.joined(separator: ","))" }
        metadata["applied"] = "\(applied.isEmpty ? "nothing changed" : applied.joined(separator: ","))"
        logger.notice("configuration reloaded", metadata: metadata)
    }

    /// The settings of `new` that differ from the running node's and take effect only on a restart.
    static func needingRestart(running: NodeConfiguration, new: NodeConfiguration) -> [String] {
        var keys: [String] = []
        func check(_ key: String, _ changed: Bool) { if changed { keys.append(key) } }
        check("network", running.networkID != new.networkID)
        check("listen", running.listen != new.listen)
        check("advertise", running.advertise != new.advertise)
        check("topics", running.topics != new.topics)
        check("allow_private_addresses", running.allowPrivateAddresses != new.allowPrivateAddresses)
        check("models", running.models != new.models)
        check("worker_url", running.workerURL != new.workerURL)
        check("worker_token_file", running.workerTokenFile != new.workerTokenFile)
        check("admin_listen", running.adminListen != new.adminListen)
        check("api_listen", running.apiListen != new.apiListen)
        check("log_file", running.logFile != new.logFile)
        check("log_file_max_bytes", running.logFileMaxBytes != new.logFileMaxBytes)
        check("connections", running.connections != new.connections)
        check("session", running.maxMessageSize != new.maxMessageSize || running.keepaliveInterval != new.keepaliveInterval
              || running.idleTimeout != new.idleTimeout)
        check("statements", running.retentionEpochs != new.retentionEpochs || running.syncIndexCapacity != new.syncIndexCapacity)
        return keys
    }
}

extension DataDirectory {
    /// A path from the configuration: absolute as it is, relative in this directory.
    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : self.path + "/" + path
    }
}
