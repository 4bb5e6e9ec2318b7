import ChorusNode
import ChorusProtocol
import Foundation
import Testing

/// The auditor's index page (`DATA_DIR/audit/index.html`): a row and a link per epoch report,
/// rebuilt from the reports when its data file is missing.
@Suite struct AuditIndexTests {
    /// A report whose own table matches the certificate (true), differs from it (false), or
    /// that has no certificate yet (nil).
    static func report(epoch: UInt64, network: String = "net", matches: Bool?) throws -> AuditReport {
        var report = AuditReport(epoch: epoch, networkID: network, role: "verify-only", now: 1_700_000_000_000 + Int64(epoch) * 60_000,
                                 own: nil, previous: nil, certificate: nil, final: matches != nil, threshold: try Ratio(2, 3),
                                 statements: [], models: ["m"])
        if let matches {
            report.matches = matches
            report.certifiedDigest = String(repeating: "ab", count: 32)
            report.ownTableDigest = String(repeating: matches ? "ab" : "cd", count: 32)
            report.signerShare = 0.75
        }
        return report
    }

    @Test func linksEveryEpochNewestFirstAndReplacesARewrittenOne() throws {
        var index = AuditIndex(networkID: "<b>net</b>")
        for epoch: UInt64 in [2, 1, 3] { index.record(try Self.report(epoch: epoch, matches: nil)) }
        index.record(try Self.report(epoch: 2, matches: true))
        #expect(index.entries.map(\.epoch) == [3, 2, 1])
        #expect(index.entries.map(\.matches) == [false, true, false] && index.entries.map(\.final) == [false, true, false])
        let html = index.html
        for epoch in 1...3 {
            #expect(html.contains("<a href=\"epoch-\(epoch).html\">\(epoch)</a>") && html.contains("href=\"epoch-\(epoch).json\""))
        }
        #expect(html.contains("&lt;b&gt;net&lt;/b&gt;") && !html.contains("<b>net</b>"), "the network id is escaped")
        #expect(html.contains("1 match the certificate") && html.contains("2 without a certificate yet"))
        #expect(!html.contains("<script") && !html.contains("src="))
    }

    /// Reports written before the index existed (no index.json): the first write finds them all;
    /// a file that is not a report is skipped. The written index reads back as it was.
    @Test func rebuildsFromTheReportsInTheDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chorus-audit-index-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let encoder = JSONEncoder()
        for epoch: UInt64 in 1...4 {
            try encoder.encode(try Self.report(epoch: epoch, matches: epoch != 3)).write(to: URL(fileURLWithPath: "\(directory)/epoch-\(epoch).json"))
        }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: "\(directory)/epoch-9.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(directory)/notes.json"))

        var index = AuditIndex.load(directory: directory, networkID: "net")
        #expect(index.entries.map(\.epoch) == [4, 3, 2, 1])
        index.record(try Self.report(epoch: 5, matches: true))
        try index.write(directory: directory)
        let html = try String(contentsOfFile: "\(directory)/\(AuditIndex.htmlName)", encoding: .utf8)
        for epoch in 1...5 { #expect(html.contains("href=\"epoch-\(epoch).html\"")) }
        #expect(html.contains("1 differ"))
        #expect(AuditIndex.load(directory: directory, networkID: "net") == index)
        // An index of another network is not trusted: rebuilt from the reports.
        #expect(AuditIndex.load(directory: directory, networkID: "other").entries.count == 4)
    }
}
