import ArgumentParser
import ChorusCrypto

/// `chorus key new`: writes a fresh identity key.
struct KeyNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a new Ed25519 key file (mode 0600) and print its public key.",
        discussion: """
            The seed comes from the operating system's random source. An existing file is never \
            overwritten: the command fails (exit 1) and says why.

            EXAMPLES:
              chorus key new --out node.key
              chorus key new --out node.key --json
            """
    )

    @Option(name: .long, help: ArgumentHelp("Path of the key file to create.", valueName: "file"))
    var out: String

    @Flag(name: .long, help: "Print {\"path\", \"public_key\"} as JSON.")
    var json = false

    func run() throws {
        let key = Ed25519.SigningKey.generate()
        do {
            try KeyFile.write(key, to: out)
        } catch {
            throw CLIFailure.failed(error.description)
        }
        if json {
            try Console.printJSON(["path": out, "public_key": key.publicKey.hex])
        } else {
            print(key.publicKey.hex)
        }
    }
}
