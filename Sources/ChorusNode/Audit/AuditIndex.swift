import Foundation

/// The auditor's index of its reports: `DATA_DIR/audit/index.html`, one row per epoch report with
/// its verdict and a link to `epoch-N.html` and `epoch-N.json`, and `index.json`, the same rows as
/// data (what the next write starts from). Rewritten after every report; when `index.json` is
/// missing or unreadable (a first run, or reports written before the index existed) it is rebuilt
/// from the `epoch-N.json` files in the directory. A row takes about 600 bytes (page and data
/// together) and every write rewrites both files: an epoch a day makes 220 KiB a year, the
/// devnet's one-minute epochs 300 MiB (as the reports themselves grow without bound, whoever keeps
/// an auditor running that long prunes the directory; the index follows on the next rebuild).
public struct AuditIndex: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var epoch: UInt64
        public var matches: Bool
        public var final: Bool
        public var certifiedDigest: String?
        public var ownTableDigest: String?
        /// Share of the previous table's voting weight that signed the certificate (0...1).
        public var signerShare: Double
        public var divergences: Int
        public var generatedUnixMs: Int64

        enum CodingKeys: String, CodingKey {
            case epoch, matches, final, divergences
            case certifiedDigest = "certified_digest"
            case ownTableDigest = "own_table_digest"
            case signerShare = "signer_share"
            case generatedUnixMs = "generated_unix_ms"
        }

        public init(_ report: AuditReport) {
            epoch = report.epoch
            matches = report.matches
            final = report.final
            certifiedDigest = report.certifiedDigest
            ownTableDigest = report.ownTableDigest
            signerShare = report.signerShare
            divergences = report.divergences.count
            generatedUnixMs = report.generatedUnixMs
        }
    }

    public var networkID: String
    /// Newest epoch first; one entry per epoch.
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey {
        case entries
        case networkID = "network_id"
    }

    public init(networkID: String, entries: [Entry] = []) {
        self.networkID = networkID
        self.entries = entries.sorted { $0.epoch > $1.epoch }
    }

    /// Adds `report`'s row, or replaces the row of its epoch (a report is rewritten once its
    /// epoch's statements are complete).
    public mutating func record(_ report: AuditReport) {
        entries.removeAll { $0.epoch == report.epoch }
        let entry = Entry(report)
        let at = entries.firstIndex { $0.epoch < entry.epoch } ?? entries.endIndex
        entries.insert(entry, at: at)
    }

    /// `directory/index.json`, or the index rebuilt from the `epoch-N.json` reports there (files
    /// that are not reports are skipped).
    public static func load(directory: String, networkID: String) -> AuditIndex {
        let decoder = JSONDecoder()
        if let data = FileManager.default.contents(atPath: "\(directory)/\(jsonName)"),
           let index = try? decoder.decode(AuditIndex.self, from: data), index.networkID == networkID {
            return index
        }
        var index = AuditIndex(networkID: networkID)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where reportEpoch(fileName: name) != nil {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
                  let report = try? decoder.decode(AuditReport.self, from: data) else { continue }
            index.record(report)
        }
        return index
    }

    /// Writes `index.html`, then `index.json` (atomically each).
    public func write(directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try Data(html.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(Self.htmlName)"), options: .atomic)
        try encoder.encode(self).write(to: URL(fileURLWithPath: "\(directory)/\(Self.jsonName)"), options: .atomic)
    }

    public static let htmlName = "index.html"
    public static let jsonName = "index.json"

    /// N for a file named `epoch-N.json`, else nil.
    static func reportEpoch(fileName: String) -> UInt64? {
        guard fileName.hasPrefix("epoch-"), fileName.hasSuffix(".json") else { return nil }
        return UInt64(fileName.dropFirst("epoch-".count).dropLast(".json".count))
    }

    /// The page: totals, the signer share per epoch as a strip of bars (newest right), and a row per
    /// epoch linking its report. Self-contained like the reports: no script, no external resource.
    public var html: String {
        let matching = entries.filter(\.matches).count
        let pending = entries.filter { $0.certifiedDigest == nil }.count
        let differing = entries.count - matching - pending
        var out = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Chorus audit: \(AuditReport.escape(networkID))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            td.l,th.l{text-align:left;font-family:monospace}.ok{color:#070}.bad{color:#b00}.muted{color:#777}
            </style></head><body>
            <h1>Audit reports: \(AuditReport.escape(networkID))</h1>
            <p>\(entries.count) epoch\(entries.count == 1 ? "" : "s"): <b class="ok">\(matching) match the certificate</b>, \
            <b class="\(differing > 0 ? "bad" : "muted")">\(differing) differ</b>, \(pending) without a certificate yet.</p>

            """
        out += signerShareChart
        out += "<table><tr><th>epoch</th><th class=\"l\">verdict</th><th class=\"l\">final</th><th class=\"l\">certified table</th>"
            + "<th>signer share</th><th>divergences</th><th class=\"l\">written (UTC)</th><th class=\"l\">data</th></tr>\n"
        let formatter = ISO8601DateFormatter()
        for e in entries {
            let verdict = e.matches ? "<span class=\"ok\">matches</span>"
                : e.certifiedDigest == nil ? "<span class=\"muted\">no certificate yet</span>" : "<b class=\"bad\">differs</b>"
            let written = formatter.string(from: Date(timeIntervalSince1970: Double(e.generatedUnixMs) / 1000))
            out += "<tr><td><a href=\"epoch-\(e.epoch).html\">\(e.epoch)</a></td><td class=\"l\">\(verdict)</td>"
                + "<td class=\"l\">\(e.final ? "yes" : "no")</td><td class=\"l\">\(AuditReport.escape(String((e.certifiedDigest ?? "–").prefix(16))))</td>"
                + "<td>\(AuditReport.percent(e.signerShare))</td><td>\(e.divergences)</td><td class=\"l\">\(written)</td>"
                + "<td class=\"l\"><a href=\"epoch-\(e.epoch).json\">json</a></td></tr>\n"
        }
        return out + "</table>\n</body></html>\n"
    }

    /// The last 200 epochs' signer shares as bars (red where the auditor's table differs).
    var signerShareChart: String {
        let shown = entries.prefix(200).reversed()
        guard !shown.isEmpty else { return "<p class=\"muted\">No report yet.</p>\n" }
        let barWidth = 6, height = 80
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(shown.count * barWidth + 2)\" height=\"\(height + 2)\" role=\"img\">"
            + "<title>signer share per epoch</title><rect width=\"100%\" height=\"100%\" fill=\"#f2f2f2\"/>\n"
        for (i, e) in shown.enumerated() {
            let h = Int((min(max(e.signerShare, 0), 1) * Double(height)).rounded())
            let color = e.matches ? "#4a7fb0" : e.certifiedDigest == nil ? "#bbb" : "#b00"
            svg += "<rect x=\"\(i * barWidth + 1)\" y=\"\(height + 1 - h)\" width=\"\(barWidth - 1)\" height=\"\(h)\" fill=\"\(color)\">"
                + "<title>epoch \(e.epoch): \(AuditReport.percent(e.signerShare))</title></rect>"
        }
        return svg + "</svg>\n<p class=\"muted\">Signer share of the voting weight per epoch (newest right; red: own table differs).</p>\n"
    }
}
