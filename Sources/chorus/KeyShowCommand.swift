import ArgumentParser
import ChorusCrypto

/// `chorus key show`: prints a key file's public key.
struct KeyShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the public key (participant id) of a key file.",
        discussion: """
            Fails (exit 1) if the file cannot be read, is not a Chorus key file, or can be read \
            by group or others (fix with chmod 600).

            EXAMPLES:
              chorus key show node.key
              chorus key show node.key --json     # {"public_key": "<64 hex>"}
            """
    )

    @Argument(help: ArgumentHelp("The key file.", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Print {\"public_key\"} as JSON.")
    var json = false

    func run() throws {
        let key = try KeyLoading.load(file)
        if json {
            try Console.printJSON(["public_key": key.publicKey.hex])
        } else {
            print(key.publicKey.hex)
        }
    }
}
