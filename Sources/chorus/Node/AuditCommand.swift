import ArgumentParser
import ChorusNode
import Foundation

/// `chorus audit [N]`: the audit report a verify-only node wrote for an epoch. Read from the data
/// directory's files, so it works whether or not the node is running.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print a verify-only node's audit report of epoch N (default: the latest).",
        discussion: """
            Reports are written by `chorusd run --verify-only` into DATA_DIR/audit/epoch-N.json \
            (and epoch-N.html, with a bar chart per model; DATA_DIR/audit/index.html links every \
            epoch's report). An auditor run with --model also \
            re-checks sampled proofs on its worker; its verdicts are listed under "proof re-checks" \
            beside the final table's acceptance. Exit 1 when the report shows the auditor's own \
            table differing from the certified one, a re-check verdict the table contradicts, or \
            no report exists.
            EXAMPLES:
              chorus --data-dir devnet/auditor audit
              chorus --data-dir devnet/auditor audit 3 --json
            """
    )

    @Option(name: .long, help: "The verify-only node's data directory.")
    var dataDir: String
    @Argument(help: "The epoch (default: the latest report).")
    var epoch: UInt64?
    @Flag(name: .long, help: "Print the report as JSON (the file's content).")
    var json = false

    /// Why there is no report yet, asked of the node when it runs: an auditor before its first final
    /// epoch has simply not written one; a participant never will.
    static func noReports(dataDir: String, directory: String) async -> CLIFailure {
        let socket = DataDirectory(dataDir).controlSocket
        guard let status = try? await ControlClient.call(.status, socketPath: socket, as: NodeStatus.self, timeout: .seconds(5)) else {
            return .failed("no audit reports in \(directory), and no node answers on \(socket); audit reports are "
                           + "written by a node run with `chorusd run --verify-only --network-file FILE`")
        }
        guard status.role == "verify-only" else {
            return .failed("no audit reports in \(directory): this node runs as \(status.role), and only a verify-only node "
                           + "(`chorusd run --verify-only`) writes them")
        }
        let epoch = try? await ControlClient.call(.epoch(nil), socketPath: socket, as: EpochStatus.self, timeout: .seconds(5))
        let position = epoch.map { e in e.stage.map { "epoch \(e.epoch) is in its \($0) stage" } ?? "the network's genesis has not come yet" }
        return .failed("no audit report yet: this auditor writes one as each epoch becomes final (now: "
                       + "\(position ?? "no epochs followed")); try again after the current epoch's tally")
    }

    func run() async throws {
        let directory = DataDirectory(dataDir).auditDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let epochs = names.compactMap { name -> UInt64? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".json") else { return nil }
            return UInt64(name.dropFirst(6).dropLast(5))
        }
        guard let shown = epoch ?? epochs.max() else { throw await Self.noReports(dataDir: dataDir, directory: directory) }
        let path = "\(directory)/epoch-\(shown).json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIFailure.failed("no audit report for epoch \(shown) (\(path)); reports exist for epochs \(epochs.sorted().map(String.init).joined(separator: ", "))")
        }
        let report: AuditReport
        do { report = try JSONDecoder().decode(AuditReport.self, from: data) } catch {
            throw CLIFailure.failed("\(path) is not an audit report: \(error)")
        }
        if json {
            try Console.printJSON(report)
        } else {
            print("epoch          \(report.epoch) (\(report.networkID))")
            print("verdict        \(report.matches ? "own table matches the certificate" : report.certifiedDigest == nil ? "no certificate yet" : "DIFFERS from the certificate")")
            print("own table      \(report.ownTableDigest ?? "none")")
            print("certified      \(report.certifiedDigest ?? "none")\(report.final ? "" : " (not final here)")")
            print("signers        \(report.certificateSigners.count), \(String(format: "%.1f", report.signerShare * 100)) % of the voting weight (threshold \(report.threshold))")
            // Digests (64 hex) are shortened; a re-check's verdict and the table's word are not.
            func short(_ text: String) -> String { text.count == 64 ? String(text.prefix(16)) : text }
            for d in report.divergences { print("divergence     \(d.what): own \(short(d.own)) vs certified \(short(d.certified))") }
            print("statements     " + report.statementCounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            for row in report.table {
                let models = row.models.filter { $0.committedCount > 0 || $0.pocWeight > 0 }.map { "\($0.model.split(separator: "/").last ?? "")=\($0.pocWeight)\($0.accepted ? "" : " (rejected)")" }
                print("\(row.participant.prefix(16))  weight \(row.weight)  voting \(row.votingWeight)" + (models.isEmpty ? "" : "  " + models.joined(separator: " ")))
            }
            if !report.proofRechecks.isEmpty { print("proof re-checks") }
            for r in report.proofRechecks {
                let verdict = r.verdict.map { "\($0) (\(r.mismatches ?? 0)/\(r.samples) mismatched)" } ?? "no verdict: \(r.outcome)"
                let table = r.tableAccepted.map { $0 ? "accepted" : "rejected" } ?? "not final"
                let agrees = r.agrees.map { $0 ? "agrees" : "DISAGREES" } ?? "-"
                print("  \(r.participant.prefix(16))  \(r.model)  commit \(r.commit.prefix(16)) n=\(r.count)  \(verdict)  table \(table)  \(agrees)")
            }
            print("html           \(directory)/epoch-\(shown).html")
            print("index          \(directory)/\(AuditIndex.htmlName)")
        }
        if !report.matches && report.certifiedDigest != nil { throw ExitCode(1) }
        if report.proofRechecks.contains(where: { $0.agrees == false }) { throw ExitCode(1) }
    }
}
