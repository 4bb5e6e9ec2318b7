import ArgumentParser
import ChorusProtocol
import ChorusCrypto
import ChorusNode
import Foundation
import Synchronization

/// `chorusd devnet`: N local nodes on loopback, each a real `chorusd run` process with its own data
/// directory, and a live table of how they are doing. Ctrl-C stops them all.
struct DevnetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devnet",
        abstract: "Run N local nodes on loopback with a live status table.",
        discussion: """
            Node i keeps its data in DIR/node-i (initialized on first use, kept across runs) and \
            listens on 127.0.0.1:(base-port + i). Node 1 is every other node's seed; peer exchange \
            fills in the mesh. Each node is a separate `chorusd run` process, so `chorus \
            --data-dir DIR/node-i status|peers|ping|epoch` works on it while the devnet runs.

            Epochs: when the network file exists (default Network/devnet/network.toml, relative to \
            the working directory), the devnet copies it to DIR/network.toml on first use with its \
            genesis time set a few seconds ahead, and nodes 1-5 use the file's well-known genesis \
            keys (seeds 01×32 … 05×32: public, devnet only); further nodes are newcomers.

            PoC: nodes 1-5 run PoC on chorus/synthetic-devnet with the built-in worker (every \
            genesis participant serves it, so its commits can gather the > 2/3 of voting weight \
            they need). With --smollm2, nodes 4 and 5 also serve SmolLM2 when Tools/fetch-model.sh \
            has fetched it, and nodes 1-3 delegate their SmolLM2 voting power to them (1, 2 → 4; 3 → 5) so \
            that its commits can be accepted and it gets a group that serves inference. \
            --fault I:SPEC makes node I misbehave (chorusd run --fault SPEC).

            The table (redrawn in place on a terminal; appended, one row per node per refresh, \
            elsewhere) shows per node: its peers and gossip mesh peers, the epoch and its \
            stage, the last final epoch and its table's digest (equal prefixes: the nodes agree), \
            the node's PoC weight per model in that table (w:MODEL), its nonce rate, its own commits \
            and votes this epoch, and its worker. Lines below it say why a node with a worker is not \
            generating (before genesis, or started after its first epoch's generation stage: PoC \
            runs only in generation, so it waits for the next epoch). --json prints the full status \
            of every node instead.

            --cpus I:LIST pins node I (every thread, OpenBLAS's and the worker's included) to the \
            CPUs LIST with taskset (util-linux), e.g. to give two nodes exactly the same hardware \
            (Tools/calibration-check.sh).

            EXAMPLES:
              chorusd devnet --nodes 5
              chorusd devnet --smollm2        (nodes 4-5 serve SmolLM2; every node's API routes to them)
              chorusd devnet --nodes 3 --dir /tmp/devnet --duration 10 --json
              chorusd devnet --fault 4:fake-artifacts=0.1 --fault 5:withhold-proofs
              chorusd devnet --nodes 2 --models 1:chorus/synthetic-devnet --cpus 1:0 --cpus 2:1
            """
    )

    @Option(name: .long, help: "How many nodes.")
    var nodes = 5

    @Option(name: .long, help: "The directory holding node-1 ... node-N.")
    var dir = "devnet"

    @Option(name: .long, help: "Node i listens on 127.0.0.1:(base-port + i).")
    var basePort = 7700

    @Option(name: .long, help: "Node i serves the OpenAI-compatible API on 127.0.0.1:(api-base-port + i); 0: no API.")
    var apiBasePort = 8700

    @Option(name: .long, help: "The network file whose epochs the nodes follow (skipped when it does not exist).")
    var networkFile = "Network/devnet/network.toml"

    @Option(name: .long, help: "Stop after this many seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Option(name: .long, help: "Seconds between table refreshes.")
    var interval: Double = 1

    @Flag(name: .long, help: "Print one JSON object per refresh (node statuses) instead of the table.")
    var json = false

    @Flag(name: .long, help: "Nodes 4 and 5 also run PoC on SmolLM2 (when its file exists).")
    var smollm2 = false

    @Flag(name: .long, help: "Run no PoC (nodes follow epochs only).")
    var noPoc = false

    @Option(name: .long, help: ArgumentHelp(
        "Node I runs PoC for exactly these network models: I:ID[,ID...] or I:none (repeatable).",
        discussion: "Replaces node I's default (the synthetic model; plus SmolLM2 on nodes 4-5 with --smollm2)."))
    var models: [String] = []

    @Option(name: .long, help: "Make node I misbehave: I:SPEC, e.g. 3:fake-artifacts=0.1 or 5:withhold-proofs (repeatable).")
    var fault: [String] = []

    @Option(name: .long, help: "Pin node I to CPUs LIST with taskset: I:LIST, e.g. 1:0 or 2:2-3 (repeatable).")
    var cpus: [String] = []

    func validate() throws {
        guard (1...200).contains(nodes) else { throw ValidationError("--nodes must be 1...200") }
        guard basePort > 0, basePort + nodes <= 65535 else { throw ValidationError("--base-port leaves no room for \(nodes) ports") }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        for m in models {
            guard let (i, list) = Self.perNode(m), (1...min(nodes, 5)).contains(i), !list.isEmpty else {
                throw ValidationError("--models \(m): expected I:ID[,ID...] or I:none with a node number I in 1...\(min(nodes, 5))")
            }
        }
        for f in fault {
            guard let (i, _) = Self.perNode(f), (1...nodes).contains(i) else {
                throw ValidationError("--fault \(f): expected I:SPEC with a node number I in 1...\(nodes)")
            }
        }
        for c in cpus {
            guard let (i, list) = Self.perNode(c), (1...nodes).contains(i), !list.isEmpty,
                  list.allSatisfy({ $0.isNumber || $0 == "," || $0 == "-" }) else {
                throw ValidationError("--cpus \(c): expected I:LIST (CPU numbers and ranges, e.g. 1:0 or 2:2-3) with a node number I in 1...\(nodes)")
            }
        }
        if !cpus.isEmpty, Self.taskset == nil {
            throw ValidationError("--cpus needs taskset (util-linux), which is not on PATH")
        }
    }

    /// A per-node option value `I:VALUE` (`--models`, `--fault`): the node number and the value.
    static func perNode(_ option: String) -> (node: Int, value: Substring)? {
        guard let colon = option.firstIndex(of: ":"), let node = Int(option[..<colon]) else { return nil }
        return (node, option[option.index(after: colon)...])
    }

    func run() async throws {
        guard let executable = Bundle.main.executablePath else { throw DaemonFailure.failed("cannot locate the chorusd executable") }
        let root = DataDirectory(dir).path
        let epochFile = try Self.prepareNetworkFile(template: networkFile, devnetRoot: root)
        var directories: [String] = []
        for i in 1...nodes {
            let dataDir = "\(root)/node-\(i)"
            directories.append(dataDir)
            if !DataDirectory(dataDir).isInitialized {
                // Nodes 1-5 take the network file's genesis keys (seeds i×32, public: devnet only).
                let key = try (epochFile != nil && i <= 5)
                    ? Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: UInt8(i), count: 32)))
                    : Ed25519.SigningKey.generate()
                try InitCommand.initialize(DataDirectory(dataDir), network: NodeConfiguration.defaultNetworkID,
                                           listen: "127.0.0.1:\(basePort + i)", key: key)
            }
        }
        Foundation.signal(SIGINT, SIG_IGN)
        Foundation.signal(SIGTERM, SIG_IGN)
        var children: [Process] = []
        // Ctrl-C while the nodes start (waiting for the seed included) stops the devnet as well.
        let stop = StopFlag()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.raise() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        let smolLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
        let haveSmolLM2 = FileManager.default.fileExists(atPath: PoCModels.defaultPath())
        if smollm2, !haveSmolLM2, !json {
            print("devnet: note: \(PoCModels.defaultPath()) not found (run Tools/fetch-model.sh); nodes 4-5 serve the synthetic model only")
        }
        for (index, dataDir) in directories.enumerated() {
            if stop.isRaised { break }
            var arguments = ["run", "--data-dir", dataDir, "--log-format", "json"]
            if let epochFile { arguments += ["--network-file", epochFile] }
            if epochFile != nil, !noPoc, index < 5 {
                var served = ["chorus/synthetic-devnet"]
                if smollm2, haveSmolLM2, index >= 3 { served.append(smolLM2) }
                if let list = models.compactMap(Self.perNode).last(where: { $0.node == index + 1 })?.value {
                    served = list == "none" ? [] : list.split(separator: ",").map(String.init)
                }
                for model in served { arguments += ["--model", model] }
                for (node, spec) in fault.compactMap(Self.perNode) where node == index + 1 { arguments += ["--fault", String(spec)] }
            }
            if index > 0 { arguments += ["--seed", "127.0.0.1:\(basePort + 1)"] }
            if apiBasePort > 0 { arguments += ["--api-listen", "127.0.0.1:\(apiBasePort + index + 1)"] }
            if let list = cpus.compactMap(Self.perNode).last(where: { $0.node == index + 1 })?.value, let taskset = Self.taskset {
                // taskset sets the affinity and execs chorusd: same process, every thread pinned.
                children.append(try Self.start(taskset, ["-c", String(list), executable] + arguments, log: dataDir + "/chorusd.log"))
            } else {
                children.append(try Self.start(executable, arguments, log: dataDir + "/chorusd.log"))
            }
            Self.progress("started node \(index + 1) of \(nodes) (pid \(children[index].processIdentifier), log \(dataDir)/chorusd.log)")
            if index == 0, nodes > 1 {
                // Every other node dials node 1 as its seed. Started together, they dialed it before it
                // listened (its start takes seconds under load: the store, the PoC model) and backed
                // off after each refused dial (250 ms, doubling), so a seed up s seconds late was
                // found up to about s seconds later still: the flaky devnet test's incomplete mesh at
                // 15 s. They start once it answers.
                let waiting = ContinuousClock.now
                await Self.waitUntilAnswering(dataDir, process: children[0], stop: stop)
                Self.progress("node 1 (every node's seed) answered after \(ByteCount.seconds(waiting.duration(to: .now))) s")
            }
        }
        if smollm2, haveSmolLM2, epochFile != nil, !noPoc, nodes >= 5, !stop.isRaised {
            await Self.delegateSmolLM2(directories, model: smolLM2, quiet: json)
        }
        if !json {
            print("devnet: \(nodes) nodes in \(root) (node-i: data and chorusd.log) on 127.0.0.1:\(basePort + 1)"
                  + (nodes > 1 ? "-\(basePort + nodes)" : "") + " (TCP, and UDP for SWIM); Ctrl-C stops them")
            // Its own file, with its own genesis: the one a joining node or `epoch verify` needs.
            if let epochFile {
                print("devnet: network file \(epochFile) (join: chorusd run --network-file \(epochFile) --seed 127.0.0.1:\(basePort + 1))")
            }
            if apiBasePort > 0 {
                let model = smollm2 && haveSmolLM2 ? smolLM2 : "MODEL"
                print("devnet: OpenAI-compatible API on http://127.0.0.1:\(apiBasePort + 1)/v1"
                      + (nodes > 1 ? " … :\(apiBasePort + nodes)/v1" : "") + " (any node routes to the model's executors), e.g.\n"
                      + "  curl -s http://127.0.0.1:\(apiBasePort + 1)/v1/chat/completions -H 'Content-Type: application/json' "
                      + "-d '{\"model\": \"\(model)\", \"messages\": [{\"role\": \"user\", \"content\": \"What is the capital of France?\"}]}'\n"
                      + "  python3 -c 'from openai import OpenAI; print(OpenAI(base_url=\"http://127.0.0.1:\(apiBasePort + 1)/v1\", "
                      + "api_key=\"none\").chat.completions.create(model=\"\(model)\", messages=[{\"role\": \"user\", "
                      + "\"content\": \"What is the capital of France?\"}]).choices[0].message.content)'")
            }
            fflush(nil)  // all streams: stdout is a pipe or a file here as often as a terminal
        }

        let started = ContinuousClock.now
        var display = DevnetDisplay()
        while !stop.isRaised {
            let nextRefresh = ContinuousClock.now + .seconds(interval)
            while !stop.isRaised, ContinuousClock.now < nextRefresh { try? await Task.sleep(for: .milliseconds(50)) }
            if stop.isRaised { break }
            let views = await DevnetNodeView.collect(directories)
            let exited = children.enumerated().filter { !$0.element.isRunning }.map { $0.offset + 1 }
            if json {
                Self.printJSON(views, exited: exited)
            } else {
                display.show(DevnetTable(views: views, exited: exited), elapsed: started.duration(to: .now))
            }
            if let duration, started.duration(to: .now) >= .seconds(duration) { break }
        }
        for child in children where child.isRunning { child.terminate() }
        // A node stops within 2 s of SIGTERM; one that has not after 10 s is killed and named.
        let deadline = ContinuousClock.now + .seconds(10)
        while children.contains(where: \.isRunning), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        for (index, child) in children.enumerated() where child.isRunning {
            FileHandle.standardError.write(Data("devnet: node-\(index + 1) did not stop within 10 s of SIGTERM; killing it\n".utf8))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
        if !json { print("devnet stopped") }
    }

    /// DIR/network.toml: copied from `template` on first use with `genesis_time` a few seconds
    /// ahead; nil (no epochs) when the template does not exist.
    private static func prepareNetworkFile(template: String, devnetRoot: String) throws -> String? {
        let target = devnetRoot + "/network.toml"
        let fm = FileManager.default
        if fm.fileExists(atPath: target) { return target }
        guard let text = try? String(contentsOfFile: template, encoding: .utf8) else { return nil }
        let genesis = Date().addingTimeInterval(8).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
        var found = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("genesis_time") else { return String(line) }
            found = true
            return "genesis_time = \(genesis)Z"
        }
        guard found else { throw DaemonFailure.failed("\(template) has no genesis_time line to set") }
        try? fm.createDirectory(atPath: devnetRoot, withIntermediateDirectories: true)
        guard fm.createFile(atPath: target, contents: Data(lines.joined(separator: "\n").utf8)) else {
            throw DaemonFailure.failed("cannot write \(target)")
        }
        return target
    }

    /// Waits until the node in `dataDir` answers on its control socket (it opens it after its
    /// listeners), its process exits, Ctrl-C, or 60 s; says so when it gives up.
    /// Nodes 1-3 do not run SmolLM2; without their voting power the commits of nodes 4 and 5 for it
    /// could never gather the > 2/3 they need (Specs/delegation.md §1), and it would never get a
    /// group to serve inference. Nodes 1 and 2 delegate to node 4, node 3 to node 5 (effective the
    /// epoch after; a declaration already in force is simply repeated).
    static func delegateSmolLM2(_ directories: [String], model: String, quiet: Bool) async {
        // Nodes 4 and 5 load SmolLM2 before their control socket answers: ask for up to 60 s.
        func publicKey(_ node: Int) async -> Ed25519.PublicKey? {
            for _ in 0..<60 {
                if let status = try? await ControlClient.call(.status, socketPath: DataDirectory(directories[node]).controlSocket,
                                                              as: NodeStatus.self, timeout: .seconds(5)) {
                    return try? Ed25519.PublicKey(hex: status.publicKey)
                }
                try? await Task.sleep(for: .seconds(1))
            }
            return nil
        }
        guard let four = await publicKey(3), let five = await publicKey(4) else {
            if !quiet { print("devnet: note: nodes 4-5 did not answer; SmolLM2 gets no delegations (chorus delegate does it by hand)") }
            return
        }
        var effective: Set<UInt64> = []
        for (node, target) in [(0, four), (1, four), (2, five)] {
            // A declaration is signed in an epoch, so none can be made before genesis (a new devnet's
            // is a few seconds ahead): the node refuses until then, and each refusal is retried.
            var failure = ""
            for _ in 0..<30 {
                do throws(ControlClientError) {
                    let declared = try await ControlClient.call(.declare(model: model, action: .delegate(to: target.raw)),
                                                                socketPath: DataDirectory(directories[node]).controlSocket,
                                                                as: DeclareResult.self, timeout: .seconds(5))
                    effective.insert(declared.effectiveEpoch)
                    failure = ""
                    break
                } catch {
                    failure = error.description
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            if !failure.isEmpty, !quiet { print("devnet: note: node \(node + 1) could not delegate SmolLM2: \(failure)") }
        }
        if let first = effective.min(), !quiet {
            print("devnet: nodes 1-2 delegate their SmolLM2 voting power to node 4 and node 3 to node 5, in force from epoch \(first)")
        }
    }

    private static func waitUntilAnswering(_ dataDir: String, process: Process, stop: StopFlag) async {
        let deadline = ContinuousClock.now + .seconds(60)
        let socket = DataDirectory(dataDir).controlSocket
        while !stop.isRaised, process.isRunning, ContinuousClock.now < deadline {
            if (try? await ControlClient.call(.status, socketPath: socket, as: NodeStatus.self, timeout: .seconds(2))) != nil { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        if !stop.isRaised, process.isRunning {
            FileHandle.standardError.write(Data("devnet: node 1 did not answer within 60 s; starting the others anyway (they retry their seed)\n".utf8))
        }
    }

    /// A step of starting the devnet, on stderr (stdout has the table or the JSON lines).
    private static func progress(_ line: String) {
        FileHandle.standardError.write(Data("devnet: \(line)\n".utf8))
    }

    /// taskset's path on PATH (for --cpus), nil when it is missing.
    static var taskset: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/taskset" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func start(_ executable: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// One line per refresh: every node's status, its current epoch and its PoC weight per model in
    /// its last final table (nil where a node did not answer), and the nodes whose process exited.
    private static func printJSON(_ views: [DevnetNodeView], exited: [Int]) {
        struct Snapshot: Encodable {
            let nodes: [NodeStatus?]
            let epochs: [EpochStatus?]
            let ownWeights: [[String: UInt64]?]
            let exited: [Int]
            enum CodingKeys: String, CodingKey {
                case nodes, epochs, exited
                case ownWeights = "own_weights"
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let snapshot = Snapshot(nodes: views.map(\.status), epochs: views.map(\.epoch),
                                ownWeights: views.map { $0.weights == nil ? nil : $0.ownWeights }, exited: exited)
        guard let data = try? encoder.encode(snapshot) else { return }
        print(String(decoding: data, as: UTF8.self))
        fflush(nil)  // all streams: stdout is a pipe or a file here as often as a terminal
    }
}

/// Set by the signal handler, read by the refresh loop.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
}
