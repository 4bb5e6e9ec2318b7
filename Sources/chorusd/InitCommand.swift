import ArgumentParser
import ChorusCrypto
import ChorusMesh
import ChorusNode
import Foundation

/// `chorusd init`: a new identity and a commented configuration in a fresh data directory.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node's key and configuration in a data directory.",
        discussion: """
            Writes DIR/node.key (a new Ed25519 identity, mode 0600) and DIR/config.toml (every \
            setting, commented). Refuses to touch a directory that already has either file.
            """
    )

    @Option(name: .long, help: "The data directory (created if missing).")
    var dataDir: String

    @Option(name: .long, help: "The network id this node joins.")
    var network: String = NodeConfiguration.defaultNetworkID

    @Option(name: .long, help: "The address to listen on, host:port ([v6]:port for IPv6).")
    var listen: String = "127.0.0.1:7700"

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    /// Creates `directory` (0700) with `key` and a commented configuration; refuses to overwrite.
    static func initialize(_ directory: DataDirectory, network: String, listen: String, key: Ed25519.SigningKey) throws {
        let fm = FileManager.default
        for file in [directory.keyFile, directory.configFile] where fm.fileExists(atPath: file) {
            throw DaemonFailure.failed("\(file) already exists; refusing to overwrite an initialized data directory")
        }
        do {
            try fm.createDirectory(atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // An existing directory keeps its mode through createDirectory: it holds the key, the
            // store and the control socket, so it is made 0700 whatever it was.
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        } catch {
            throw DaemonFailure.failed("cannot create \(directory.path) with mode 0700: \(error.localizedDescription)")
        }
        do { try KeyFile.write(key, to: directory.keyFile) } catch { throw DaemonFailure.failed("\(error)") }
        let text = ConfigFile.template(networkID: network, listen: listen)
        guard fm.createFile(atPath: directory.configFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw DaemonFailure.failed("cannot write \(directory.configFile)")
        }
    }

    func run() throws {
        let directory = DataDirectory(dataDir)
        do { _ = try NetAddress(parsing: listen) } catch { throw DaemonFailure.usage("--listen: \(error)") }
        let validNetwork = !network.isEmpty && network.count <= 64
            && network.unicodeScalars.allSatisfy { "abcdefghijklmnopqrstuvwxyz0123456789-._".unicodeScalars.contains($0) }
        guard validNetwork else { throw DaemonFailure.usage("--network: use 1-64 characters from a-z 0-9 - . _") }
        let key = Ed25519.SigningKey.generate()
        try Self.initialize(directory, network: network, listen: listen, key: key)
        if json {
            let summary = ["public_key": key.publicKey.hex, "data_dir": directory.path, "network_id": network, "listen": listen]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print("initialized \(directory.path)")
            print("  public key: \(key.publicKey.hex)")
            print("  network:    \(network)")
            print("  listen:     \(listen)")
            print("start it with: chorusd run --data-dir \(directory.path)")
        }
    }
}
