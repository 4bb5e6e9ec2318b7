// swift-tools-version: 6.2
// Chorus: a peer-to-peer node for decentralized AI inference. See README.md and Specs/.
import PackageDescription

/// Settings every Chorus target compiles with: Swift 6 language mode is the package default,
/// and a warning is an error so that "no warnings" holds on every build.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Chorus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chorus", targets: ["chorus"]),
        .executable(name: "chorus-bench", targets: ["chorus-bench"]),
        .executable(name: "chorusd", targets: ["chorusd"]),
        // libFuzzer driver (Tools/fuzz.sh); a plain build replays inputs given on the command line.
        .executable(name: "chorus-fuzz", targets: ["chorus-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Worker HTTP (ChorusWorkerHTTP only): server and client of Specs/worker.md.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Metrics (the node's instruments) and their Prometheus backend (the admin listener's /metrics).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `chorusd run`: ordered start and stop of its services, SIGTERM/SIGINT/SIGHUP.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // MARK: - System libraries (C), each imported by exactly one Swift wrapper module.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // MARK: - Crypto
        .target(name: "ChorusCrypto", dependencies: ["CSodium"], swiftSettings: strict),
        .testTarget(name: "ChorusCryptoTests", dependencies: ["ChorusCrypto"], swiftSettings: strict),

        // MARK: - Wire (pure: canonical encoding, signed statements)
        .target(name: "ChorusWire", dependencies: ["ChorusCrypto"], swiftSettings: strict),
        .testTarget(name: "ChorusWireTests", dependencies: ["ChorusWire", "ChorusCrypto"], swiftSettings: strict),

        // MARK: - Loop
        .target(name: "ChorusLoop", dependencies: ["CLibUV"], swiftSettings: strict),
        .testTarget(name: "ChorusLoopTests", dependencies: ["ChorusLoop"], swiftSettings: strict),

        // MARK: - Mesh (pure: handshake, connection rules, membership, gossip)
        .target(name: "ChorusMesh", dependencies: ["ChorusCrypto", "ChorusWire"], swiftSettings: strict),
        .testTarget(name: "ChorusMeshTests", dependencies: ["ChorusMesh", "ChorusWire"], swiftSettings: strict),

        // MARK: - Protocol (pure: epochs, beacon, PoC commitments, votes, delegation, tally, weights)
        .target(name: "ChorusProtocol", dependencies: ["ChorusCrypto", "ChorusWire"], swiftSettings: strict),
        // TOML, read exactly and without ever aborting (network files and config.toml; ChorusTOML/TOMLParser.swift).
        .target(name: "ChorusTOML", swiftSettings: strict),
        .testTarget(name: "ChorusTOMLTests", dependencies: ["ChorusTOML"], swiftSettings: strict),
        // Network files (`Network/<name>/network.toml` → NetworkParameters). Apart from ChorusProtocol so that the
        // pure core stays free of file formats.
        .target(name: "ChorusNetworkFile", dependencies: ["ChorusProtocol", "ChorusTOML"], swiftSettings: strict),
        .testTarget(
            name: "ChorusProtocolTests",
            dependencies: ["ChorusProtocol", "ChorusNetworkFile", "ChorusWire", "ChorusCrypto"],
            swiftSettings: strict
        ),

        // MARK: - Store
        .target(name: "ChorusStore", dependencies: ["CLMDB", "ChorusCrypto"], swiftSettings: strict),
        .testTarget(name: "ChorusStoreTests", dependencies: ["ChorusStore", "ChorusCrypto"], swiftSettings: strict),
        // Child process for ChorusStoreTests' crash test (SIGKILLed while writing); not shipped.
        .executableTarget(name: "chorus-store-crash-child", dependencies: ["ChorusStore"], swiftSettings: strict),

        // MARK: - Node (the shell: runs the state machines on the loop, persists, talks to the worker)
        .target(
            name: "ChorusNode",
            dependencies: [
                "ChorusCrypto", "ChorusWire", "ChorusStore", "ChorusMesh", "ChorusLoop", "ChorusProtocol",
                // The worker protocol (WorkerAPI and its messages); never the engine: chorusd hands the node
                // an in-process WorkerService or a WorkerHTTPClient.
                "ChorusWorkerAPI",
                // Inference jobs the node routes and serves (Services/Inference); no HTTP.
                "ChorusInference",
                .product(name: "Logging", package: "swift-log"),
                "ChorusTOML",
                // The metrics API only; the Prometheus backend is ChorusAdmin's.
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChorusNodeTests",
            dependencies: ["ChorusNode", "ChorusMesh", "ChorusLoop", "ChorusProtocol", "ChorusNetworkFile", "ChorusCompute", "ChorusStore",
                           "ChorusWorkerAPI", "ChorusInference", "ChorusTestKit", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // MARK: - Worker API (pure: Specs/worker.md's messages, errors and JSON, the WorkerAPI protocol, PoC vectors)
        // What a client of a worker needs, without the engine.
        .target(name: "ChorusWorkerAPI", dependencies: ["ChorusCrypto"], swiftSettings: strict),

        // MARK: - Compute (the built-in CPU worker engine: GGUF, Llama forward, tokenizer, generation)
        .target(name: "ChorusCompute", dependencies: ["COpenBLAS", "ChorusCrypto", "ChorusWorkerAPI"], swiftSettings: strict),
        .testTarget(name: "ChorusComputeTests", dependencies: ["ChorusCompute", "ChorusWorkerAPI", "ChorusCrypto"], swiftSettings: strict),

        // MARK: - Test kit (deterministic simulator; used only by tests and benchmarks)
        .target(name: "ChorusTestKit", dependencies: ["ChorusMesh", "ChorusCrypto", "ChorusInference"], swiftSettings: strict),
        .testTarget(name: "ChorusTestKitTests", dependencies: ["ChorusTestKit", "ChorusMesh"], swiftSettings: strict),

        // MARK: - HTTP listeners (Hummingbird): the address forms, bind errors and start/stop that the worker
        // server, the OpenAI-compatible API and the admin listener share.
        .target(
            name: "ChorusHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Inference jobs (what a request asks, how it ends, the errors users see) and the backend that runs them
        // on a worker; shared by the HTTP API and the node's routing service, without HTTP.
        .target(name: "ChorusInference", dependencies: ["ChorusWorkerAPI", "ChorusCrypto"], swiftSettings: strict),

        // MARK: - OpenAI-compatible API (README "OpenAI-compatible API"): parsing, bounds, SSE, keys; runs jobs on an
        // InferenceBackend (the node's router or its worker), so it needs the worker protocol but not the engine.
        .target(
            name: "ChorusAPI",
            dependencies: [
                "ChorusHTTP", "ChorusInference", "ChorusWorkerAPI", "ChorusCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                // vLLM's inference metrics (APIMetrics.swift) through the node's factory.
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChorusAPITests",
            dependencies: [
                "ChorusAPI", "ChorusInference", "ChorusHTTP", "ChorusWorkerAPI", "ChorusCompute", "ChorusTestKit",
                // The node's Prometheus factory, to read the API's metrics as a scrape shows them.
                "ChorusAdmin", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Worker HTTP (Specs/worker.md over HTTP: Hummingbird server, AsyncHTTPClient client; keeps NIO out of ChorusCompute)
        .target(
            name: "ChorusWorkerHTTP",
            dependencies: [
                "ChorusWorkerAPI",
                "ChorusHTTP",
                // The server serves the in-process engine.
                "ChorusCompute",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // AsyncHTTPClient above also serves `chorus infer`, which calls a node's OpenAI-compatible API.
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChorusWorkerHTTPTests",
            dependencies: [
                "ChorusWorkerHTTP", "ChorusWorkerAPI", "ChorusCompute", "ChorusCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Version (the release, the build's git revision and every protocol version; `--version`)
        // GitRevisionPlugin runs Tools/git-revision.sh before each build ("unknown" outside a git work tree).
        .plugin(name: "GitRevisionPlugin", capability: .buildTool()),
        .target(
            name: "ChorusVersion",
            dependencies: ["ChorusCompute", "ChorusMesh", "ChorusNode", "ChorusProtocol", "ChorusWire", "ChorusWorkerAPI"],
            swiftSettings: strict,
            plugins: ["GitRevisionPlugin"]
        ),

        // MARK: - Admin listener (/metrics, /healthz, /readyz of `chorusd run`; keeps HTTP and Prometheus out of ChorusNode)
        .target(
            name: "ChorusAdmin",
            dependencies: [
                "ChorusNode", "ChorusHTTP", "ChorusInference",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChorusAdminTests",
            dependencies: [
                "ChorusAdmin", "ChorusNode", "ChorusHTTP", "ChorusLoop", "ChorusCrypto", "ChorusProtocol", "ChorusNetworkFile",
                "ChorusCompute", "ChorusWorkerAPI", "ChorusStore", "ChorusWire", "ChorusInference",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Executables
        .executableTarget(
            name: "chorusd",
            dependencies: [
                "ChorusCrypto",
                "ChorusNode",
                "ChorusNetworkFile",
                "ChorusProtocol",
                "ChorusStore",
                "ChorusWire",
                // The in-process worker `chorusd run` hands the node when no --worker URL is given.
                "ChorusCompute",
                "ChorusWorkerAPI",
                // `chorusd run --worker URL` (client) and `chorusd worker serve` (server).
                "ChorusWorkerHTTP",
                // `chorusd run`'s admin listener (/metrics, /healthz, /readyz).
                "ChorusAdmin",
                "ChorusVersion",
                // `chorusd run --api-listen HOST:PORT`: the OpenAI-compatible API.
                "ChorusAPI",
                "ChorusInference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "chorus",
            dependencies: [
                "ChorusCrypto",
                "ChorusWire",
                "ChorusStore",
                "ChorusNode",
                "ChorusProtocol",
                "ChorusNetworkFile",
                "ChorusCompute",
                "ChorusWorkerAPI",
                "ChorusWorkerHTTP",
                "ChorusVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "chorus-bench",
            dependencies: [
                "ChorusCrypto",
                "ChorusWire",
                "ChorusStore",
                "ChorusNode",
                "ChorusLoop",
                "ChorusMesh",
                "ChorusTestKit",
                .product(name: "Logging", package: "swift-log"),
                "ChorusCompute",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Fuzzing (Tools/fuzz.sh): one target per decoder a peer or a file reaches
        // Header-only: declares libFuzzer's `LLVMFuzzerRunDriver` weak, so builds without `-sanitize=fuzzer` still link.
        .systemLibrary(name: "CFuzzerDriver"),
        .target(
            name: "ChorusFuzzTargets",
            dependencies: ["ChorusCrypto", "ChorusWire", "ChorusMesh", "ChorusProtocol", "ChorusNetworkFile", "ChorusCompute",
                           "ChorusWorkerAPI", "ChorusNode"],
            swiftSettings: strict
        ),
        .executableTarget(name: "chorus-fuzz", dependencies: ["CFuzzerDriver", "ChorusFuzzTargets"], swiftSettings: strict),
        // Regressions/TARGET/: crash inputs the tests replay, read from the source tree.
        .testTarget(name: "ChorusFuzzTests", dependencies: ["ChorusFuzzTargets", "ChorusCrypto"], exclude: ["Regressions"], swiftSettings: strict),

        // MARK: - CLI end-to-end tests (run the built `chorus` binary; no module dependencies)
        .testTarget(name: "ChorusCLITests", swiftSettings: strict),
    ]
)
