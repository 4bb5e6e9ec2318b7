import ChorusCompute
import ChorusMesh
import ChorusNode
import ChorusProtocol
import ChorusWire
import ChorusWorkerAPI
import Foundation

/// What `chorusd --version` and `chorus --version` report: the release, the git revision the binary
/// was built from, and the version of every format two Chorus programs must agree on. An operator
/// compares these (not the release number) to tell whether a node, a worker and an export are
/// compatible; each comes from the constant the code itself uses, never a copy.
public enum ChorusVersion {
    /// The release. Raise it with every tagged release; protocol versions move independently.
    public static let current = "0.1.0"

    /// The short git commit the binary was built from ("unknown" outside a git work tree), recorded
    /// at build time by the GitRevisionPlugin (Tools/git-revision.sh).
    public static let gitRevision = generatedGitRevision

    /// One format and its version, in the order `--version` lists them.
    public struct ProtocolVersion: Sendable, Equatable {
        /// The JSON key.
        public let key: String
        /// What it versions, for the text form.
        public let title: String
        public let version: String
    }

    public static let protocols: [ProtocolVersion] = [
        ProtocolVersion(key: "handshake", title: "handshake (Noise prologue)", version: handshakeLabel),
        ProtocolVersion(key: "statement_encoding", title: "signed statement encoding",
                        version: "\(SignedStatement.currentVersion)"),
        ProtocolVersion(key: "network_parameters", title: "network file parameters encoding",
                        version: "\(NetworkParameters.currentVersion)"),
        ProtocolVersion(key: "worker_api", title: "worker API", version: "v\(WorkerAPIVersion.current)"),
        ProtocolVersion(key: "epoch_export", title: "epoch export", version: EpochExport.currentFormat),
        ProtocolVersion(key: "poc_kernel", title: "PoC kernel", version: PoCKernel.spec),
        ProtocolVersion(key: "store_schema", title: "store schema", version: "\(NodeSchema.schema.version)"),
    ]

    /// `chorus/noise/1`: the prologue's label, taken from the prologue itself (the network id follows
    /// a zero byte).
    static var handshakeLabel: String {
        let prologue = NoiseHandshake.prologue(networkID: "")
        return String(decoding: prologue.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The text form: `PROGRAM VERSION (git REVISION)` and one line per protocol.
    public static func text(program: String) -> String {
        let width = protocols.map(\.title.count).max() ?? 0
        return (["\(program) \(current) (git \(gitRevision))", "protocols:"]
            + protocols.map { "  " + $0.title.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.version })
            .joined(separator: "\n")
    }

    /// The `--json` form: one object with sorted keys.
    public static func json(program: String) -> String {
        let object: [String: Any] = [
            "program": program, "version": current, "git_revision": gitRevision,
            "protocols": Dictionary(uniqueKeysWithValues: protocols.map { ($0.key, $0.version) }),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether `arguments` (without the program name) ask for the version: `--version`, optionally
    /// with `--json`. Checked before the subcommands are parsed, so `--json` can follow.
    public static func isRequest(_ arguments: [String]) -> Bool {
        arguments.contains("--version") && !arguments.isEmpty && arguments.allSatisfy { $0 == "--version" || $0 == "--json" }
    }

    /// The answer to a version request.
    public static func answer(_ arguments: [String], program: String) -> String {
        arguments.contains("--json") ? json(program: program) : text(program: program)
    }
}
