import ArgumentParser
import ChorusNode
import ChorusStore
import Foundation

extension DbCommand {
    /// `chorus db backup --data-dir DIR --to OUT [--json]`: a consistent, compacted copy of a node's
    /// store while the node keeps running, plus its key and configuration, so OUT is a data directory
    /// `chorusd run --data-dir OUT` can start from.
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a node's store (consistent and compacted) and its key and config, while it runs.",
            discussion: """
                The store is copied inside one LMDB read transaction (mdb_env_copy2 with compaction), \
                so the copy is the store as of one commit even while the node writes; a plain cp of \
                a live data.mdb can be torn. OUT must not exist or be empty; it is created with mode \
                0700 and gets OUT/store/data.mdb, OUT/node.key and OUT/config.toml (mode 0600: the \
                key is the node's identity, keep the backup as private as the node). Given a store \
                directory instead of a data directory, OUT gets OUT/data.mdb only.

                Restore: stop the node, move its data directory aside, put OUT in its place, start it.

                EXAMPLES:
                  chorus db backup --data-dir /var/lib/chorus --to /backup/chorus-$(date +%F)
                  chorus db stats --data-dir /backup/chorus-2026-12-08      (check the copy)
                """)

        @Option(help: "The node's data directory (its store is DIR/store), or a store directory (the one holding data.mdb).")
        var dataDir: String

        @Option(help: "The backup directory to create (must not exist or be empty).")
        var to: String

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        struct Report: Encodable {
            var from: String
            var to: String
            /// Bytes of the source's data.mdb (its high-water mark, free pages included) and of the copy.
            var sourceBytes: Int
            var copyBytes: Int
            var files: [String]
        }

        func run() throws {
            let store = try Stats.storeDirectory(for: dataDir)
            let isDataDirectory = store != dataDir
            try Self.requireEmptyOrMissing(to)
            let storeTarget = isDataDirectory ? DataDirectory(to).storeDirectory : to
            do {
                let environment = try StoreEnvironment.openReadOnly(at: store)
                try environment.copy(toDirectory: storeTarget)
            } catch {
                throw CLIFailure.failed("backup of \(store) failed: \(error)")
            }
            var files = [storeTarget + "/" + StoreEnvironment.dataFileName]
            if isDataDirectory {
                let node = DataDirectory(dataDir), copy = DataDirectory(to)
                for (source, target) in [(node.keyFile, copy.keyFile), (node.configFile, copy.configFile)]
                where FileManager.default.fileExists(atPath: source) {
                    try Self.copyPrivately(source, to: target)
                    files.append(target)
                }
            }
            let report = Report(from: dataDir, to: to, sourceBytes: Self.size(store + "/" + StoreEnvironment.dataFileName),
                                copyBytes: Self.size(files[0]), files: files)
            if json {
                try Console.printJSON(report)
            } else {
                print("backed up \(dataDir) to \(to): store \(Stats.byteCount(report.copyBytes)), "
                      + "compacted from \(Stats.byteCount(report.sourceBytes))")
                for file in files { print("  \(file)") }
            }
        }

        /// A backup never overwrites: OUT must be new or an empty directory.
        static func requireEmptyOrMissing(_ path: String) throws(CLIFailure) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
            guard isDirectory.boolValue else { throw .failed("\(path) exists and is not a directory; choose a new backup directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
            guard entries.isEmpty else {
                throw .failed("\(path) is not empty; a backup never overwrites: choose a new directory")
            }
        }

        /// Copies a small private file (the key, the config) with mode 0600, whatever the source's mode.
        static func copyPrivately(_ source: String, to target: String) throws(CLIFailure) {
            guard let data = FileManager.default.contents(atPath: source) else { throw .failed("cannot read \(source)") }
            guard FileManager.default.createFile(atPath: target, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw .failed("cannot write \(target)")
            }
        }

        static func size(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
    }
}
