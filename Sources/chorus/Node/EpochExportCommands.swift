import ArgumentParser
import ChorusNetworkFile
import ChorusNode
import ChorusProtocol
import Foundation

/// `chorus epoch export N --out FILE`: a running node's record of epoch N in the self-contained
/// format of Specs/export.md.
struct EpochExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every signed statement of epoch N, its inputs and its final table and certificate to a file (Specs/export.md).",
        discussion: """
            EXAMPLE:
              chorus --data-dir devnet/node-1 epoch export 3 --out epoch-3.json
              chorus epoch verify epoch-3.json
            """
    )

    @OptionGroup var node: NodeOptions
    @Argument(help: "The epoch (1 or later).")
    var epoch: UInt64
    @Option(name: .long, help: "Where to write the export (JSON).")
    var out: String
    @Flag(name: .long, help: "Print JSON: path, epoch, statements, final, bytes.")
    var json = false

    struct Summary: Codable {
        var path: String
        var epoch: UInt64
        var statements: Int
        var final: Bool
        var bytes: Int
    }

    func run() async throws {
        let export = try await node.call(.epochExport(epoch: epoch), as: EpochExport.self)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(export)
        try InputFiles.write([UInt8](data), to: out)
        let summary = Summary(path: out, epoch: export.epoch, statements: export.statements.count, final: export.table != nil, bytes: data.count)
        if json { return try Console.printJSON(summary) }
        print("epoch \(summary.epoch): \(summary.statements) statements, \(summary.final ? "final" : "NOT final") -> \(out) (\(summary.bytes) bytes)")
    }
}

/// `chorus epoch verify FILE`: checks an export with no node: every signature, the recomputed
/// table against the certificate, the certificate against the previous table.
struct EpochVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-verify an epoch export: signatures, recomputed table, certificate. Exit 0 when it matches the certificate, 1 otherwise.",
        discussion: """
            The network parameters come from --network-file, or else from the network file \
            embedded in the export. Needs no running node.
            A devnet's nodes use the network file it wrote, DIR/network.toml (Network/devnet/network.toml \
            is only its template, with another genesis).
            EXAMPLE:
              chorus epoch verify epoch-3.json --network-file devnet/network.toml --json
            """
    )

    @Argument(help: "The export (from `chorus epoch export`).")
    var file: String
    @Option(name: .long, help: "The network file (default: the one embedded in the export).")
    var networkFile: String?
    @Flag(name: .long, help: "Print JSON: matches, statements_checked, bad_statements, recomputed_digest, certified_digest, problems, ...")
    var json = false

    func run() async throws {
        let bytes = try InputFiles.read(file)
        let export: EpochExport
        do { export = try JSONDecoder().decode(EpochExport.self, from: Data(bytes)) } catch {
            let why = (error as? DecodingError).map(Self.explain) ?? "\(error)"
            throw CLIFailure.usage("\(file) is not an epoch export (\(why)): create one from a running node with "
                + "`chorus --data-dir DIR epoch export N --out \(file)`")
        }
        let parameters: NetworkParameters
        do {
            if let networkFile {
                parameters = try NetworkFile.load(path: networkFile)
            } else if let text = export.networkFile {
                parameters = try NetworkFile.parse(text, file: "\(file) (embedded network file)")
            } else {
                throw CLIFailure.usage("\(file) embeds no network file; pass --network-file")
            }
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure.usage("\(error)")
        }
        let result = export.verify(parameters: parameters)
        if json {
            try Console.printJSON(result)
        } else {
            print("epoch          \(result.epoch)")
            print("verdict        \(result.matches ? "MATCHES the certificate" : "does NOT match")")
            print("signatures     \(result.statementsChecked) checked, \(result.badStatements) bad")
            print("recomputed     \(result.recomputedDigest ?? "none")")
            print("certified      \(result.certifiedDigest ?? "none") (\(result.signers) signers, \(result.signerVotingWeight) of \(result.totalVotingWeight) voting weight)")
            print("previous       \(result.previousTableDigest ?? "none")")
            for p in result.problems { print("problem        \(p)") }
        }
        if !result.matches { throw ExitCode(1) }
    }

    /// What is wrong where, in the file's own terms: `missing key "epoch" at the top level`,
    /// `expected a number at statements[3].seq`, `not JSON`.
    static func explain(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the top level" : text
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is String.Type: "a string"
            case is Bool.Type: "true or false"
            case is any BinaryInteger.Type, is Double.Type, is Float.Type: "a number"
            case is [Any].Type: "an array"
            case is [String: Any].Type: "an object"
            default: "\(type)"
            }
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing key \"\(key.stringValue)\" at \(path(context.codingPath))"
        case let .typeMismatch(type, context):
            return "expected \(kind(type)) at \(path(context.codingPath))"
        case let .valueNotFound(type, context):
            return "\(path(context.codingPath)) is null, expected \(kind(type))"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not JSON" }
            return "bad value at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
