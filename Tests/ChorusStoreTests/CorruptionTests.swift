import ChorusStore
import Foundation
import Testing

@Suite struct CorruptionTests {
    let directory = TemporaryDirectoryForTests("corrupt")

    /// Writes a store with some data and returns the data file's path.
    func makeStore() throws -> String {
        let environment = try StoreEnvironment.open(at: directory.path, schema: StoreSchema(tables: ["items"]))
        let items: Table<UInt64, String> = try environment.table("items")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for key in UInt64(0)..<100 { try items.put(key, "value \(key)", in: transaction) }
        }
        return directory.sub(StoreEnvironment.dataFileName)
    }

    func expectCorrupt(_ open: () throws -> StoreEnvironment) {
        let error = #expect(throws: StoreError.self) { _ = try open() }
        guard case .corrupt(let path, let codeName, _) = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(path == directory.path)
        #expect(codeName.hasPrefix("MDB_"))
        #expect(error?.description.contains("damaged or unreadable") == true)
    }

    @Test func garbageHeaderIsReportedAsCorrupt() throws {
        let dataFile = try makeStore()
        var generator = SeededGeneratorForTests(seed: 42)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataFile))
        try handle.write(contentsOf: (0..<8192).map { _ in UInt8.random(in: 0 ... 255, using: &generator) })
        try handle.close()
        expectCorrupt { try StoreEnvironment.open(at: directory.path, schema: StoreSchema(tables: ["items"])) }
        expectCorrupt { try StoreEnvironment.openReadOnly(at: directory.path) }
    }

    @Test func truncatedFileIsReportedAsCorrupt() throws {
        let dataFile = try makeStore()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataFile))
        try handle.truncate(atOffset: 100)
        try handle.close()
        expectCorrupt { try StoreEnvironment.openReadOnly(at: directory.path) }
    }

    @Test func zeroedFileIsReportedAsCorrupt() throws {
        let dataFile = try makeStore()
        try Data(count: 64 << 10).write(to: URL(fileURLWithPath: dataFile))
        expectCorrupt { try StoreEnvironment.open(at: directory.path, schema: StoreSchema(tables: ["items"])) }
    }

    @Test func dataFileThatIsADirectoryIsAnError() throws {
        try FileManager.default.createDirectory(
            atPath: directory.sub(StoreEnvironment.dataFileName), withIntermediateDirectories: true)
        let error = #expect(throws: StoreError.self) {
            _ = try StoreEnvironment.open(at: directory.path, schema: StoreSchema(tables: []))
        }
        #expect(error?.description.contains(directory.path) == true)
    }

    @Test func storeDirectoryThatIsAFileIsAnError() throws {
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let file = directory.sub("plain-file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
        let error = #expect(throws: StoreError.self) { _ = try StoreEnvironment.open(at: file, schema: StoreSchema(tables: [])) }
        guard case .fileSystem(_, _, let code, _) = error else {
            Issue.record("expected .fileSystem, got \(String(describing: error))")
            return
        }
        #expect(code == ENOTDIR)
    }

    /// An LMDB environment written by something else (here `mdb_load`) is not mistaken for a store.
    @Test func foreignLMDBEnvironmentIsRefused() throws {
        let load = "/usr/bin/mdb_load"
        try #require(FileManager.default.isExecutableFile(atPath: load), "needs mdb_load from lmdb-utils")
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let dump = directory.sub("foreign.dump")
        try """
            VERSION=3
            format=bytevalue
            type=btree
            HEADER=END
             6b6579
             76616c7565
            DATA=END

            """.write(toFile: dump, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: load)
        process.arguments = ["-s", "theirs", "-f", dump, directory.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: directory.sub(StoreEnvironment.dataFileName)))

        let error = #expect(throws: StoreError.self) {
            _ = try StoreEnvironment.open(at: directory.path, schema: StoreSchema(tables: ["items"]))
        }
        guard case .notAChorusStore = error else {
            Issue.record("expected .notAChorusStore, got \(String(describing: error))")
            return
        }
        #expect(throws: StoreError.self) { _ = try StoreEnvironment.openReadOnly(at: directory.path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.sub(StoreEnvironment.dataFileName))) == before)
    }
}
