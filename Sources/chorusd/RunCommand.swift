import ArgumentParser
import ChorusAPI
import ChorusAdmin
import ChorusCompute
import ChorusCrypto
import ChorusLoop
import ChorusNetworkFile
import ChorusNode
import ChorusProtocol
import ChorusStore
import ChorusWire
import ChorusWorkerAPI
import ChorusWorkerHTTP
import Foundation
import Logging
import ServiceLifecycle

/// `chorusd run`: runs a node until SIGINT or SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a node: listen, dial seeds and remembered peers, keep sessions, serve the control socket.",
        discussion: """
            Peers the node connects to are remembered in its store, so after a restart it finds \
            them again without --seed. SIGINT or SIGTERM stops it gracefully (peers are told, the \
            store is flushed) within two seconds: the admin listener, the API, PoC on the worker, \
            the node and the store, in that order. SIGHUP re-reads config.toml and applies \
            log_level, seeds, the API keys and [api] rates without a restart (and reopens the log \
            file); the log line says what changed and which changes need a restart.
            """
    )

    @Option(name: .long, help: "The data directory made by `chorusd init`.")
    var dataDir: String

    @Option(name: .long, help: "Listen on host:port instead of the configured addresses (repeatable).")
    var listen: [String] = []

    @Option(name: .long, help: "Dial host:port at start, besides remembered peers (repeatable).")
    var seed: [String] = []

    @Option(name: .long, help: "Follow the epochs of this network file (Network/<name>/network.toml); its seeds are dialed too.")
    var networkFile: String?

    @Flag(name: .long, help: ArgumentHelp(
        "Audit only: follow and re-derive every epoch, store every statement, write DATA_DIR/audit/epoch-N.{json,html}; never generate PoC, serve inference or sign epoch statements.",
        discussion: """
            Needs --network-file. With --model (and --worker or worker_url, else the built-in worker) \
            the auditor also re-checks a sample of every participant's proofs for those models on the \
            worker and reports its verdicts beside the table's; the worker is used for nothing else. \
            `chorus audit` prints the reports; `chorus status` shows the role verify-only.
            """))
    var verifyOnly = false

    @Option(name: .long, help: "Run PoC for this network model (repeatable; ID or ID=PATH); adds to the config's models. Needs --network-file. With --verify-only: re-check this model's proofs instead.")
    var model: [String] = []

    @Option(name: .long, help: "The PoC worker's base URL (default: the config's worker_url, else the built-in in-process worker).")
    var worker: String?

    @Option(name: .long, help: "File with the HTTP worker's bearer token (default: $CHORUS_WORKER_TOKEN, else the config's worker_token_file).")
    var workerTokenFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Devnet only: misbehave to test the network (repeatable): fake-artifacts=F, withhold-proofs, random-votes, never-reveal, inflate-counts, equivocate.",
        discussion: "Refused unless the network id ends in -devnet, and with --verify-only (an auditor has nothing to fake)."))
    var fault: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Epochs of statements kept before the current one (default: the config's statements.retention_epochs, else 8; at least 2).",
        discussion: "Older statements are deleted and no longer reconciled; final tables and certificates are kept. `chorus epoch export N` needs epochs N and N-1."))
    var retentionEpochs: UInt64?

    @Option(name: .long, help: "Admin HTTP listener for /metrics, /healthz, /readyz: HOST:PORT, unix:PATH or off (default: the config's admin_listen, else 127.0.0.1 on the listen port + 2000).")
    var adminListen: String?

    @Option(name: .long, help: ArgumentHelp(
        "Serve the OpenAI-compatible API on HOST:PORT (default: the config's api_listen; none without either).",
        discussion: "Requests are drawn to executors of the model's group by PoC weight (this node included when it runs the model). Keys: the config's api_keys_file; without it the API is open."))
    var apiListen: String?

    @Option(name: .long, help: "Log format: text or json (one object per line on stderr).")
    var logFormat: LogFormat = .text

    @Option(name: .long, help: "Lowest level logged: trace, debug, info, notice, warning, error, critical (default: the config's log_level, else info; SIGHUP keeps this flag).")
    var logLevel: Logger.Level?

    @Option(name: .long, help: "Also append the log as JSON lines to this file, renamed to FILE.1 at the config's log_file_max_bytes (default: the config's log_file; relative: in the data directory).")
    var logFile: String?

    enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    /// A start failure's message; a control socket this user may not create gets the likely cause.
    static func explain(_ error: any Error) -> String {
        if case let .controlSocketFailed(path, why)? = error as? NodeError, why.contains("EACCES") || why.contains("EPERM") {
            return "cannot create the control socket \(path): permission denied: this user (uid \(getuid())) may not write "
                + "in \((path as NSString).deletingLastPathComponent) (another user's node or a read-only directory); run "
                + "chorusd as the user that owns the data directory, or fix its permissions"
        }
        return "\(error)"
    }

    func run() async throws {
        let directory = DataDirectory(dataDir)
        // Missing, a file, another user's, or never initialized: each says what to do.
        if let problem = directory.problem() { throw DaemonFailure.failed(problem.description) }
        // Before the key, the store or the socket is touched: one process per data directory.
        let lock: DataDirectoryLock
        do { lock = try DataDirectoryLock(directory) } catch { throw DaemonFailure.failed("\(error)") }
        defer { withExtendedLifetime(lock) {} }
        // A reload asked for while the node starts has nothing to reload yet (the config is read
        // now); SIGHUP's default action would end the process. SignalService traps it from "node running".
        Foundation.signal(SIGHUP, SIG_IGN)
        var configuration: NodeConfiguration
        do { configuration = try ConfigFile.load(directory.configFile) } catch { throw DaemonFailure.failed("\(error)") }
        let fileConfiguration = configuration
        let levels = LogLevelSwitch(logLevel ?? configuration.logLevel ?? .info)
        var logFileSink: JSONLogFile?
        if let path = (logFile ?? configuration.logFile).map({ directory.resolve($0) }) {
            do { logFileSink = try JSONLogFile(path: path, maxBytes: configuration.logFileMaxBytes) } catch {
                throw DaemonFailure.failed("\(error); fix its directory's permissions or choose another log_file")
            }
        }
        let format: DaemonLogHandler.Format = logFormat == .json ? .json : .text, sink = logFileSink
        LoggingSystem.bootstrap { DaemonLogHandler(label: $0, format: format, levels: levels, file: sink) }
        let logger = Logger(label: "chorusd")
        if !listen.isEmpty { configuration.listen = listen }
        configuration.seeds += seed.filter { !configuration.seeds.contains($0) }
        if let retentionEpochs {
            guard retentionEpochs >= NodeConfiguration.minimumRetentionEpochs else {
                throw DaemonFailure.failed("--retention-epochs \(retentionEpochs): at least \(NodeConfiguration.minimumRetentionEpochs) (an epoch's tally reads the epoch before it)")
            }
            configuration.retentionEpochs = retentionEpochs
        }
        // The network file's seeds and address policy apply to every node of the network.
        var network: (parameters: NetworkParameters, bootstrap: NetworkBootstrap)?
        if let path = networkFile {
            do { network = try NetworkFile.loadDocument(path: path) } catch { throw DaemonFailure.failed("\(error)") }
        }
        if let bootstrap = network?.bootstrap {
            configuration.seeds += bootstrap.seeds.filter { !configuration.seeds.contains($0) }
            configuration.allowPrivateAddresses = configuration.allowPrivateAddresses || bootstrap.allowPrivateAddresses
        }
        let key: Ed25519.SigningKey
        do { key = try KeyFile.read(directory.keyFile) } catch { throw DaemonFailure.failed("\(error)") }

        let environment: StoreEnvironment
        let writer: StorageWriter
        let peerStore: PeerStore
        let statements: StatementStore
        let addresses: AddressBookStore
        do {
            environment = try StoreEnvironment.open(at: directory.storeDirectory, schema: NodeSchema.schema)
            writer = try StorageWriter(environment: environment)
            peerStore = try PeerStore(environment: environment, writer: writer)
            addresses = try AddressBookStore(environment: environment, writer: writer)
            statements = try StatementStore(environment: environment, writer: writer,
                                            policy: StatementPolicy(networkID: configuration.networkID, allowedTypes: StatementType.builtIn))
        } catch {
            throw DaemonFailure.failed("cannot open the store in \(directory.storeDirectory): \(error)")
        }
        var engine: EpochEngine?
        var networkFileText: String?
        if verifyOnly && networkFile == nil {
            throw DaemonFailure.failed("--verify-only needs --network-file: an auditor re-derives the epochs of one network")
        }
        var poc: (link: WorkerLink, faults: PoCFaults, artifacts: ArtifactStore?)?
        let models = configuration.models + model
        if networkFile == nil, !models.isEmpty || !fault.isEmpty {
            throw DaemonFailure.usage("--model, --fault and the config's models need --network-file (PoC follows the network's epochs)")
        }
        // An auditor's worker only re-checks proofs (Specs/validation.md §6): it has nothing to fake,
        // and a worker without a model would have nothing to re-check.
        if verifyOnly, !fault.isEmpty {
            throw DaemonFailure.usage("--verify-only never runs PoC: drop --fault")
        }
        if verifyOnly, worker != nil, models.isEmpty {
            throw DaemonFailure.usage("--verify-only --worker re-checks proofs of the models it is given: add --model ID")
        }
        if let path = networkFile, let parameters = network?.parameters {
            guard parameters.networkID == configuration.networkID else {
                throw DaemonFailure.failed("\(path) is for network \"\(parameters.networkID)\" but this node is on \"\(configuration.networkID)\"")
            }
            networkFileText = try? String(contentsOfFile: path, encoding: .utf8)
            var served: [String] = []
            var faults = PoCFaults()
            if !models.isEmpty {
                do { faults = try PoCFaults.parse(fault, networkID: parameters.networkID) } catch { throw DaemonFailure.usage("\(error)") }
                let url = worker ?? configuration.workerURL
                let token: String?
                do {
                    let file = workerTokenFile ?? configuration.workerTokenFile.map {
                        $0.hasPrefix("/") ? $0 : directory.path + "/" + $0
                    }
                    token = try WorkerToken.resolve(token: nil, file: file, createFile: false)
                } catch { throw DaemonFailure.failed("\(error)") }
                let link = url.map { WorkerLink(api: WorkerHTTPClient(baseURL: $0, token: token), endpoint: $0) }
                    ?? WorkerLink(api: WorkerService(), endpoint: "in-process")
                do {
                    var requests: [LoadModelRequest] = []
                    for spec in models { requests.append(try PoCModels.request(for: spec, parameters: parameters)) }
                    served = try await Self.loadModels(requests, on: link, parameters: parameters, logger: logger)
                    // An auditor never generates, so it keeps no artifacts.
                    poc = (link, faults, verifyOnly ? nil : try ArtifactStore(environment: environment, writer: writer))
                } catch {
                    throw DaemonFailure.failed("\(error)")
                }
                logger.info(verifyOnly ? "models loaded for proof re-checks" : "PoC models loaded",
                            metadata: ["models": "\(served.joined(separator: ","))", "worker": "\(link.endpoint)"])
            } else if !fault.isEmpty {
                throw DaemonFailure.usage("--fault needs a model to run PoC for (--model ID)")
            }
            engine = verifyOnly ? Node.makeAuditorEngine(parameters: parameters, key: key)
                : Node.makeEpochEngine(parameters: parameters, key: key, servedModels: served, faults: faults.commits)
        }
        // The signed peer record announces what this run does. An auditor's record lists no models
        // even when its worker holds some: it serves neither PoC nor inference for them, and peers
        // route work by that list.
        configuration.role = verifyOnly ? .verifyOnly : .full
        configuration.servedModels = engine?.configuration.servedModels ?? []
        let loop: EventLoop
        do { loop = try EventLoop(name: "chorusd") } catch { throw DaemonFailure.failed("cannot start the event loop: \(error)") }

        let metrics = ChorusMetricsFactory()
        let node = Node(configuration: configuration, signingKey: key, peerStore: peerStore, statements: statements,
                        addressBook: addresses, loop: loop, logger: logger, metrics: metrics)
        var admin: AdminServer?
        var api: APIServer?
        do {
            // The network file's digest goes into the first handshakes (Specs/transport.md §2).
            if let engine { await node.announceNetwork(engine.parameters) }
            try await node.start()
            try await node.startControlServer(path: directory.controlSocket)
            if let poc { await node.attachPoC(worker: poc.link, faults: poc.faults, artifacts: poc.artifacts) }
            if let engine {
                // The replay reads and verifies every stored epoch statement: seconds for a long history.
                logger.info("replaying stored epochs", metadata: ["store": "\(directory.storeDirectory)"])
                let replay = ContinuousClock.now
                await node.attachEpochs(engine, networkFile: networkFileText, auditDirectory: verifyOnly ? directory.auditDirectory : nil)
                logger.info("stored epochs replayed", metadata: ["seconds": "\(ByteCount.seconds(replay.duration(to: .now)))"])
            }
            api = try await Self.startInference(node: node, listen: apiListen ?? configuration.apiListen,
                                                keysFile: configuration.apiKeysFile, rate: Self.apiRate(configuration),
                                                directory: directory, worker: verifyOnly ? nil : poc?.link.api, metrics: metrics)
            if let api { logger.info("API listening", metadata: ["url": "\(api.url)"]) }
            // Last, so that /readyz and the status page only answer once everything else runs.
            admin = try await AdminServer.launch(node: node, registry: metrics.registry, setting: adminListen ?? configuration.adminListen,
                                                 nodeListen: configuration.listen, logger: logger)
        } catch {
            await api?.stop()
            await admin?.stop()
            await node.stop()
            loop.shutdown()
            writer.close()
            if let failure = error as? DaemonFailure { throw failure }
            throw DaemonFailure.failed(Self.explain(error))
        }
        let trapped = await SignalService.trap()
        logger.info("node running", metadata: [
            "public_key": "\(key.publicKey.hex)", "network": "\(configuration.networkID)",
            "data_dir": "\(directory.path)",
        ])

        let reloader = ConfigReloader(
            configFile: directory.configFile, directory: directory, running: fileConfiguration,
            levelFlag: logLevel, fixedSeeds: configuration.seeds.filter { !fileConfiguration.seeds.contains($0) },
            levels: levels, logFile: logFileSink, node: node, api: api, logger: logger)
        // Started in this order, stopped in the reverse: each part stops before what it relies on
        // (the API routes to the node, PoC runs on the node's worker link, the node writes through
        // the storage writer). The signal service comes last so that it stops listening first.
        var parts: [StartedPart] = [
            StartedPart(description: "storage writer", logger: logger) { writer.close() },
            StartedPart(description: "node", logger: logger) { await node.stop(); loop.shutdown() },
        ]
        if poc != nil { parts.append(StartedPart(description: "worker", logger: logger) { await node.stopPoC() }) }
        if let api { parts.append(StartedPart(description: "API", logger: logger) { await api.stop() }) }
        if let admin { parts.append(StartedPart(description: "admin listener", logger: logger) { await admin.stop() }) }
        var services = parts.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        if engine != nil { services.append(.init(service: CatchUpLog(node: node, logger: logger))) }
        let signals = SignalService(signals: trapped, logger: logger) { await reloader.reload() }
        services.append(.init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        do { try await group.run() } catch { throw DaemonFailure.failed("stopping: \(error)") }
        logger.info("stopped cleanly")
    }

    /// The API's per-key budget from `[api]`; absent settings keep the standard rate's.
    static func apiRate(_ configuration: NodeConfiguration) -> APIAccess.Rate {
        APIAccess.Rate(perMinute: configuration.apiRequestsPerMinute.map(Double.init) ?? APIAccess.Rate.standard.perMinute,
                       burst: configuration.apiBurst.map(Double.init) ?? APIAccess.Rate.standard.burst)
    }

    /// Loads the models one at a time, logging each one's size before and its load time after: a
    /// large GGUF file takes a while to read, and the log should say what the node is waiting on.
    static func loadModels(_ requests: [LoadModelRequest], on link: WorkerLink, parameters: NetworkParameters,
                           logger: Logger) async throws(PoCModelError) -> [String] {
        var served: [String] = []
        for (index, request) in requests.enumerated() {
            var metadata: Logger.Metadata = ["model": "\(request.id)", "step": "\(index + 1) of \(requests.count)", "worker": "\(link.endpoint)"]
            if let path = request.path {
                metadata["file"] = "\(path)"
                if let bytes = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
                    metadata["size"] = "\(ByteCount.text(bytes))"
                }
            } else {
                metadata["source"] = "synthetic"
            }
            logger.info("loading model", metadata: metadata)
            let started = ContinuousClock.now
            served += try await PoCModels.load([request], on: link, parameters: parameters)
            logger.info("model loaded", metadata: ["model": "\(request.id)", "seconds": "\(ByteCount.seconds(started.duration(to: .now)))"])
        }
        return served
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
