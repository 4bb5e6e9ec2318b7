import ChorusInference
import ChorusNode
import Foundation
import Testing

/// `Tools/grafana-dashboard.json`: valid JSON whose every query names only metrics the node
/// exports (a renamed metric would leave a silently empty panel), and that shows every family.
@Suite struct GrafanaDashboardTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tools/grafana-dashboard.json").path

    /// Every string under an `expr`, `query` or `definition` key, anywhere in the document.
    static func queries(in value: Any) -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, child -> [String] in
                if ["expr", "query", "definition"].contains(key), let text = child as? String { return [text] }
                return queries(in: child)
            }
        }
        if let array = value as? [Any] { return array.flatMap { queries(in: $0) } }
        return []
    }

    /// The `chorus_...` and `vllm:...` names in a PromQL expression, histogram series mapped to their family.
    static func metricNames(in expression: String) -> Set<String> {
        let regex = try! Regex("chorus_[a-z0-9_]+|vllm:[a-z0-9_]+")
        let histograms = Set(NodeMetricNames.all.filter { $0.kind == .histogram }.map(\.name)
            + InferenceMetricNames.all.filter { $0.kind == .histogram }.map(\.name))
        return Set(expression.matches(of: regex).map { match -> String in
            let name = String(expression[match.range])
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                let family = String(name.dropLast(suffix.count))
                if histograms.contains(family) { return family }
            }
            return name
        })
    }

    @Test func everyExpressionNamesAnExportedMetric() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.path))
        let document = try JSONSerialization.jsonObject(with: data)
        let dashboard = try #require(document as? [String: Any])
        #expect(dashboard["title"] as? String == "Chorus node")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.filter { $0["type"] as? String != "row" }.count >= 20)

        // The node's families and, where the API listens, its vLLM-named inference families.
        let exported = Set(NodeMetricNames.all.map(\.name) + InferenceMetricNames.all.map(\.name))
        let queries = Self.queries(in: dashboard)
        #expect(queries.count >= 30)
        var used: Set<String> = []
        for query in queries where query.contains("chorus_") || query.contains("(") {
            let names = Self.metricNames(in: query)
            #expect(!names.isEmpty, "query names no chorus metric: \(query)")
            for name in names { #expect(exported.contains(name), "\(name) in \"\(query)\" is not a metric the node exports") }
            used.formUnion(names)
        }
        #expect(exported.subtracting(used).isEmpty, "families without a panel: \(exported.subtracting(used).sorted())")
    }

    @Test func theNameCheckCatchesAnUnknownMetric() {
        #expect(Self.metricNames(in: "rate(chorus_loop_lag_seconds_bucket[5m])") == ["chorus_loop_lag_seconds"])
        #expect(Self.metricNames(in: "chorus_transport_sent_bytes_total + chorus_gossip_mesh_peer") ==
            ["chorus_transport_sent_bytes_total", "chorus_gossip_mesh_peer"])
        #expect(!Set(NodeMetricNames.all.map(\.name)).contains("chorus_gossip_mesh_peer"))
    }
}
