/// The audit report as one self-contained HTML page (no scripts, no external resources): summary,
/// a bar chart per model as inline SVG, the weight table, the auditor's proof re-checks (when it
/// has a worker), the certificate's signers.
extension AuditReport {
    public var html: String {
        var out = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Chorus audit: \(Self.escape(networkID)) epoch \(epoch)</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            td.l,th.l{text-align:left;font-family:monospace}.ok{color:#070}.bad{color:#b00}
            </style></head><body>
            <h1>Epoch \(epoch) audit</h1>
            <p>Network <b>\(Self.escape(networkID))</b>, role \(Self.escape(role)).
            Verdict: \(matches ? "<b class=\"ok\">own table matches the certificate</b>" : "<b class=\"bad\">\(certifiedDigest == nil ? "no certificate yet" : "own table differs from the certificate")</b>").</p>
            <table>
            <tr><th class="l">own table</th><td class="l">\(ownTableDigest ?? "none")</td></tr>
            <tr><th class="l">certified</th><td class="l">\(certifiedDigest ?? "none")</td></tr>
            <tr><th class="l">previous</th><td class="l">\(previousTableDigest ?? "none")</td></tr>
            <tr><th class="l">signers</th><td class="l">\(certificateSigners.count), \(Self.percent(signerShare)) of the voting weight (threshold \(Self.escape(threshold)))</td></tr>
            <tr><th class="l">beacon</th><td class="l">\(reveals) reveals, \(nonRevealers.count) non-revealers; \(equivocators.count) equivocators</td></tr>
            </table>

            """
        if !divergences.isEmpty {
            out += "<h2>Divergences</h2><table><tr><th class=\"l\">what</th><th class=\"l\">own</th><th class=\"l\">certified</th></tr>\n"
            for d in divergences {
                out += "<tr><td class=\"l\">\(Self.escape(d.what))</td><td class=\"l\">\(Self.escape(d.own))</td><td class=\"l\">\(Self.escape(d.certified))</td></tr>\n"
            }
            out += "</table>\n"
        }
        out += "<h2>Consensus weight</h2>\n" + Self.barChart(table.map { ($0.participant, $0.weight) })
        out += "<h2>PoC weight per model</h2>\n"
        for (model, bars) in pocWeightsByModel {
            let total = bars.reduce(UInt64(0)) { $0 &+ $1.weight }
            out += "<h3>\(Self.escape(model))</h3>\n"
            out += total == 0 ? "<p>No accepted PoC for this model in epoch \(epoch).</p>\n" : Self.barChart(bars)
        }
        out += "<h2>Weight table</h2><table><tr><th class=\"l\">participant</th><th>weight</th><th>voting weight</th><th class=\"l\">models</th></tr>\n"
        for row in table {
            let models = row.models.map { "\(Self.escape($0.model)) \($0.mode) n=\($0.committedCount) poc=\($0.pocWeight)\($0.accepted ? "" : " (not accepted)")" }
            out += "<tr><td class=\"l\">\(row.participant.prefix(16))…</td><td>\(row.weight)</td><td>\(row.votingWeight)</td><td class=\"l\">\(models.joined(separator: "<br>"))</td></tr>\n"
        }
        out += "</table>\n" + proofRechecksHTML
        out += "<h2>Certificate signers</h2><table><tr><th class=\"l\">participant</th><th>voting weight</th><th>share</th></tr>\n"
        for s in certificateSigners {
            out += "<tr><td class=\"l\">\(s.participant.prefix(16))…</td><td>\(s.votingWeight)</td><td>\(Self.percent(s.share))</td></tr>\n"
        }
        out += "</table>\n<h2>Statements</h2><table><tr><th class=\"l\">type</th><th>count</th></tr>\n"
        for (type, count) in statementCounts.sorted(by: { $0.key < $1.key }) {
            out += "<tr><td class=\"l\">\(Self.escape(type))</td><td>\(count)</td></tr>\n"
        }
        out += "</table>\n</body></html>\n"
        return out
    }

    /// The proof re-checks section: one row per re-checked commit, its verdict against the table's.
    var proofRechecksHTML: String {
        guard !proofRechecks.isEmpty else { return "" }
        var out = "<h2>Proof re-checks</h2><table><tr><th class=\"l\">participant</th><th class=\"l\">model</th><th class=\"l\">commit</th>"
            + "<th>count</th><th>samples</th><th>proofs verified</th><th>mismatches</th><th class=\"l\">verdict</th><th class=\"l\">table</th><th class=\"l\">agrees</th></tr>\n"
        for r in proofRechecks {
            let verdict = r.verdict.map { "<b class=\"\($0 == "valid" ? "ok" : "bad")\">\(Self.escape($0))</b>" } ?? "none (\(Self.escape(r.outcome)))"
            let table = r.tableAccepted.map { $0 ? "accepted" : "rejected" } ?? "not final"
            let agrees = r.agrees.map { $0 ? "<span class=\"ok\">yes</span>" : "<b class=\"bad\">NO</b>" } ?? "–"
            out += "<tr><td class=\"l\">\(r.participant.prefix(16))…</td><td class=\"l\">\(Self.escape(r.model))</td><td class=\"l\">\(r.commit.prefix(16))…</td>"
                + "<td>\(r.count)</td><td>\(r.samples)</td><td>\(r.proofsVerified)</td><td>\(r.mismatches.map(String.init) ?? "–")</td>"
                + "<td class=\"l\">\(verdict)</td><td class=\"l\">\(table)</td><td class=\"l\">\(agrees)</td></tr>\n"
        }
        return out + "</table>\n"
    }

    /// Horizontal bars scaled to the largest value; a value of 0 gets no bar but keeps its label.
    static func barChart(_ bars: [(participant: String, weight: UInt64)]) -> String {
        let rowHeight = 22, labelWidth = 150, barWidth = 420
        let top = max(bars.map(\.weight).max() ?? 0, 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 110)\" height=\"\(max(bars.count, 1) * rowHeight + 4)\" role=\"img\">\n"
        for (i, bar) in bars.enumerated() {
            let y = i * rowHeight + 2
            let width = Int((Double(bar.weight) / Double(top) * Double(barWidth)).rounded())
            svg += "<text x=\"0\" y=\"\(y + 15)\" font-family=\"monospace\" font-size=\"12\">\(bar.participant.prefix(16))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(width)\" height=\"\(rowHeight - 6)\" fill=\"#4a7fb0\"/>"
            svg += "<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 13)\" font-size=\"12\">\(bar.weight)</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
