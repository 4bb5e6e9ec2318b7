import ArgumentParser
import ChorusCrypto

/// `chorus sign`: raw Ed25519 signatures, for interoperability checks and scripts.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign raw bytes with a key file and print the 64-byte Ed25519 signature as hex.",
        discussion: """
            Signs exactly the input bytes (pure Ed25519, RFC 8032): no domain prefix, no \
            newline added or removed. Any RFC 8032 implementation verifies the result. This is \
            not how statements are signed; use `chorus statement sign` for those.

            EXAMPLES:
              chorus sign --key node.key --in message.bin
              printf 'hello' | chorus sign --key node.key
              chorus sign --key node.key --in message.bin --json
            """
    )

    @Option(name: .long, help: ArgumentHelp("The key file to sign with.", valueName: "file"))
    var key: String

    @Option(name: .customLong("in"), help: ArgumentHelp("File to sign (default: standard input).", valueName: "file"))
    var input: String?

    @Flag(name: .long, help: "Print {\"public_key\", \"signature\"} as JSON.")
    var json = false

    func run() throws {
        let signingKey = try KeyLoading.load(key)
        let message = try InputFiles.read(input)
        let signature = signingKey.sign(message)
        if json {
            try Console.printJSON(["public_key": signingKey.publicKey.hex, "signature": signature.hex])
        } else {
            print(signature.hex)
        }
    }
}
