import ChorusStore
import Foundation
import Testing

/// End-to-end checks of `chorus db stats`, run as the built `chorus` executable.
@Suite struct DbStatsCommandTests {
    let directory = TemporaryDirectoryForTests("dbstats")

    func runChorus(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try FileManager.default.createDirectory(atPath: directory.sub("out"), withIntermediateDirectories: true)
        let child = try ChildProcessForTests.start(
            arguments, outputPath: directory.sub("out/\(UUID().uuidString)"), executable: "chorus")
        let status = child.waitForExit()
        return (status, child.output())
    }

    @Test func printsTablesAndMapFiguresAsJSON() throws {
        let store = directory.sub("node")
        do {
            let environment = try StoreEnvironment.open(at: store, schema: StoreSchema(tables: ["peers", "votes"]))
            let peers: Table<UInt64, String> = try environment.table("peers")
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                for key in UInt64(0)..<3 { try peers.put(key, "peer", in: transaction) }
            }
        }
        let (status, output) = try runChorus(["db", "stats", "--data-dir", store, "--json"])
        #expect(status == 0, "\(output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let tables = try #require(object["tables"] as? [[String: Any]])
        #expect(tables.map { $0["name"] as? String } == ["meta", "peers", "votes"])
        #expect(tables.map { $0["entries"] as? Int } == [1, 3, 0])
        #expect((object["mapSize"] as? Int ?? 0) > 0)
        #expect((object["usedPages"] as? Int ?? 0) > 0)
        #expect((object["lastTransactionID"] as? Int ?? 0) > 0)

        let text = try runChorus(["db", "stats", "--data-dir", store])
        #expect(text.status == 0)
        #expect(text.output.contains("peers  3"))
    }

    @Test func refusesADirectoryWithoutAStoreAndCreatesNothing() throws {
        let empty = directory.sub("empty")
        let (status, output) = try runChorus(["db", "stats", "--data-dir", empty])
        #expect(status != 0)
        #expect(output.contains("no Chorus store in \(empty)"))
        #expect(!FileManager.default.fileExists(atPath: empty))
    }
}
