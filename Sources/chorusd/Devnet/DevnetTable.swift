import ChorusNode
import Foundation

/// The devnet's table: one row per node with its sessions (peers, gossip mesh), where it is in the epoch schedule, the
/// last final table it holds (digest prefix: equal prefixes mean the nodes agree), its weight per
/// model in that table, its PoC activity and its inference counters (requests it forwarded as a
/// gateway, served for other gateways, and checks it ran as a validator); below it, one line per
/// reason a node is idle.
struct DevnetTable {
    let views: [DevnetNodeView]
    /// Node numbers (from 1) whose process exited.
    let exited: [Int]

    /// The models of every table shown, in a stable order, so columns do not move between refreshes.
    var models: [String] {
        Set(views.flatMap { $0.weights?.participants.flatMap { $0.models.map(\.model) } ?? [] }).sorted()
    }

    /// A model's column title: the part after the organisation, at most 14 characters.
    static func title(_ model: String) -> String {
        String((model.split(separator: "/").last.map(String.init) ?? model).prefix(14))
    }

    /// Column titles; a column is as wide as its title (longer cells overflow).
    func columns(_ models: [String]) -> [String] {
        ["node", "key     ", "peers", "mesh", "epoch", "stage      ", "final", "digest  "]
            + models.map { "w:" + Self.title($0) } + ["n/s  ", "commits", "votes", "fwd/srv/chk", "worker"]
    }

    /// The table's rows, header first, then the notes.
    var lines: [String] {
        let models = self.models
        let columns = columns(models)
        let widths = columns.map(\.count)
        var lines = [columns.joined(separator: "  ")]
        for (index, view) in views.enumerated() {
            let number = index + 1
            guard let s = view.status else {
                lines.append(Self.pad("\(number)", widths[0], alignRight: true) + "  "
                             + (exited.contains(number) ? "(exited; see its chorusd.log)" : "(not answering yet)"))
                continue
            }
            var cells = ["\(number)", String(s.publicKey.prefix(8)), "\(s.peerCount)", "\(s.meshPeers)"]
            if let e = view.epoch {
                cells += ["\(e.epoch)", e.stage ?? (e.epoch == 0 ? "pre-genesis" : "-"),
                          e.lastFinalEpoch.map { "\($0)" } ?? "-", view.weights.map { String($0.tableDigest.prefix(8)) } ?? "-"]
            } else {
                cells += ["-", "(no epochs)", "-", "-"]
            }
            let own = view.ownWeights
            cells += models.map { own[$0].map { "\($0)" } ?? "-" }
            if let poc = s.poc {
                let confirming = poc.generation.contains { $0.running && $0.window != nil }
                let worker = (poc.worker.healthy ? "ok" : "UNHEALTHY") + (confirming ? " (confirmation PoC)" : "")
                    + (poc.faults.isEmpty ? "" : " fault: " + poc.faults.joined(separator: ","))
                cells += [String(format: "%.0f", view.noncesPerSecond ?? 0), "\(poc.commits)", "\(poc.votes)", Self.inference(s), worker]
            } else {
                cells += ["-", "-", "-", Self.inference(s), "(no PoC)"]
            }
            lines.append(zip(cells, widths + [0]).enumerated().map { column, pair in
                // Text columns (key, stage, digest, worker) left-aligned, numbers right-aligned.
                Self.pad(pair.0, pair.1, alignRight: ![1, 5, 7].contains(column) && column != cells.count - 1)
            }.joined(separator: "  ").trimmingTrailingSpaces)
        }
        return lines + notes
    }

    /// Why nodes with a worker are not generating: one line per distinct reason, naming the nodes.
    var notes: [String] {
        var byReason: [(reason: String, nodes: [Int])] = []
        for (index, view) in views.enumerated() {
            guard let reason = Self.idleReason(view) else { continue }
            if let i = byReason.firstIndex(where: { $0.reason == reason }) { byReason[i].nodes.append(index + 1) } else {
                byReason.append((reason, [index + 1]))
            }
        }
        return byReason.map { "  " + ($0.nodes.count == 1 ? "node \($0.nodes[0])" : "nodes " + $0.nodes.map(String.init).joined(separator: ",")) + ": " + $0.reason }
    }

    /// Why a node that runs PoC has no generation this epoch, or nil when it has one (or runs no PoC).
    static func idleReason(_ view: DevnetNodeView) -> String? {
        guard let poc = view.status?.poc, let epoch = view.epoch else { return nil }
        guard let stage = epoch.stage else {
            return epoch.epoch == 0 ? "waiting for genesis: epoch 1 starts at the network file's genesis_time" : nil
        }
        if poc.generation.contains(where: { $0.epoch == epoch.epoch }) { return nil }
        if let skipped = epoch.skipped.first { return "idle in epoch \(epoch.epoch): \(skipped)" }
        guard stage != "generation" else { return nil }
        return "idle in epoch \(epoch.epoch): it started after the epoch's generation stage, and PoC runs only in "
            + "generation; it generates from epoch \(epoch.epoch + 1) on"
    }

    /// Requests forwarded / served for other gateways / checks run (failed checks in parentheses).
    static func inference(_ status: NodeStatus) -> String {
        guard let i = status.inference else { return "-" }
        return "\(i.forwarded)/\(i.servedForPeers)/\(i.checksRun)" + (i.checksFailed > 0 ? " (\(i.checksFailed) failed)" : "")
    }

    static func pad(_ text: String, _ width: Int, alignRight: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return alignRight ? fill + text : text + fill
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
