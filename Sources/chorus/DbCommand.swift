import ArgumentParser
import ChorusNode
import ChorusStore
import Foundation

/// `chorus db …`: inspect or back up a node's LMDB store directly (read-only; safe while the node runs).
struct DbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Inspect or back up a node's store.",
        subcommands: [Stats.self, Backup.self])

    /// `chorus db stats --data-dir DIR [--json]`
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each table's entry count and how much of the map is used.",
            discussion: """
                Opens the store read-only, so it can run while the node is running; it never creates \
                a store. With --json, prints one JSON object.
                """)

        @Option(help: "The node's data directory (its store is DIR/store), or the store directory itself (the one holding data.mdb).")
        var dataDir: String

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func run() throws {
            let environment = try StoreEnvironment.openReadOnly(at: Self.storeDirectory(for: dataDir))
            let statistics = try environment.statistics()
            print(json ? try Self.json(statistics) : Self.text(statistics))
        }

        /// The store `--data-dir` names: DIR/store when DIR is a node's data directory (as for every
        /// other command), DIR itself when it holds data.mdb; otherwise a failure saying which.
        static func storeDirectory(for dataDir: String) throws(CLIFailure) -> String {
            let node = DataDirectory(dataDir)
            let data = StoreEnvironment.dataFileName
            if FileManager.default.fileExists(atPath: node.storeDirectory + "/" + data) { return node.storeDirectory }
            if FileManager.default.fileExists(atPath: dataDir + "/" + data) { return dataDir }
            let why: String
            switch node.problem(readingFiles: false) {
            case let problem? where !problem.isNotInitialized:
                why = problem.description
            case .some:
                why = "neither \(dataDir)/\(data) nor \(dataDir)/store/\(data) exists; pass a node's data directory "
                    + "(the one given to `chorusd init`) or its store directory"
            case nil:
                why = "\(dataDir) is a node's data directory, but its store (\(node.storeDirectory)/\(data)) does not exist "
                    + "yet; start the node once (`chorusd run --data-dir \(dataDir)`) to create it"
            }
            throw .failed("no Chorus store in \(dataDir): \(why)")
        }

        static func json(_ statistics: StoreStatistics) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(statistics), as: UTF8.self)
        }

        static func text(_ statistics: StoreStatistics) -> String {
            let usedBytes = statistics.usedPages * statistics.pageSize
            let percent = statistics.mapSize > 0 ? Double(usedBytes) * 100 / Double(statistics.mapSize) : 0
            var lines = [
                "store           \(statistics.path)",
                "schema version  \(statistics.schemaVersion)",
                "map size        \(byteCount(statistics.mapSize))",
                "used            \(statistics.usedPages) pages of \(statistics.pageSize) bytes = "
                    + "\(byteCount(usedBytes)) (\(String(format: "%.1f", percent))% of the map)",
                "last txn        \(statistics.lastTransactionID)",
                "reader slots    \(statistics.readerSlotsUsed) used of \(statistics.maxReaders)",
                "",
            ]
            let width = max(5, statistics.tables.map(\.name.count).max() ?? 0)
            lines.append("table".padding(toLength: width, withPad: " ", startingAt: 0) + "  entries")
            for table in statistics.tables {
                lines.append(table.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(table.entries)")
            }
            return lines.joined(separator: "\n")
        }

        /// "1073741824 bytes (1.0 GiB)".
        static func byteCount(_ bytes: Int) -> String {
            let units = ["KiB", "MiB", "GiB", "TiB"]
            var value = Double(bytes)
            var unit = -1
            while value >= 1024 && unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit < 0 ? "\(bytes) bytes" : "\(bytes) bytes (\(String(format: "%.1f", value)) \(units[unit]))"
        }
    }
}

extension DataDirectory.Problem {
    /// The directory is there and readable, only without `chorusd init`'s files.
    var isNotInitialized: Bool {
        if case .notInitialized = self { return true }
        return false
    }
}
