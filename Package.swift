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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
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

        // MARK: - Mesh (pure: handshake, connection rules, membership, gossip)
        .target(name: "ChorusMesh", dependencies: ["ChorusCrypto"], swiftSettings: strict),
        .testTarget(name: "ChorusMeshTests", dependencies: ["ChorusMesh"], swiftSettings: strict),

        // MARK: - Test kit (deterministic simulator; used only by tests and benchmarks)
        .target(name: "ChorusTestKit", dependencies: ["ChorusMesh", "ChorusCrypto"], swiftSettings: strict),
        .testTarget(name: "ChorusTestKitTests", dependencies: ["ChorusTestKit", "ChorusMesh"], swiftSettings: strict),

        // MARK: - Executables
        .executableTarget(
            name: "chorus",
            dependencies: [
                "ChorusCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "chorus-bench",
            dependencies: [
                "ChorusCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
    ]
)
