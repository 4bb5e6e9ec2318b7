import ChorusTestKit
import Foundation
import Testing

@Suite struct SimulationReportTests {
    @Test func reportIsJSONWithOneRunPerSize() throws {
        let report = SimulationReport.measure(nodeCounts: [24], seed: 5, crashes: 3, pauseDuration: .seconds(30))
        let decoded = try JSONDecoder().decode(SimulationReport.self, from: Data(report.json.utf8))
        #expect(decoded == report)
        let run = try #require(decoded.runs.first)
        #expect(run.nodes == 24)
        #expect(run.gossip.propagation.completeness == 1)
        #expect(run.crashDetection.crashes == 3)
        #expect(report.json.contains("\"allNodesSeconds\""))
    }
}
