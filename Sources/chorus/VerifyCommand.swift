import ArgumentParser
import ChorusCrypto

/// `chorus verify`: checks a raw Ed25519 signature.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an Ed25519 signature of raw bytes.",
        discussion: """
            Exit status: 0 and "valid" on stdout when the signature verifies; 1 and a reason on \
            stderr when it does not; 2 when an argument is malformed (hex, length) or the input \
            cannot be read.

            EXAMPLES:
              chorus verify --public-key 3d40…660c --signature 92a0…0c00 --in message.bin
              printf 'hello' | chorus verify --public-key "$PK" --signature "$SIG" --json
            """
    )

    @Option(name: .long, help: ArgumentHelp("The signer's public key: 64 hex characters.", valueName: "hex"))
    var publicKey: String

    @Option(name: .long, help: ArgumentHelp("The signature: 128 hex characters.", valueName: "hex"))
    var signature: String

    @Option(name: .customLong("in"), help: ArgumentHelp("File that was signed (default: standard input).", valueName: "file"))
    var input: String?

    @Flag(name: .long, help: "Print {\"valid\": true|false} as JSON (the exit status is the same).")
    var json = false

    struct Result: Encodable {
        let valid: Bool
        let reason: String?
    }

    func run() throws {
        let key: Ed25519.PublicKey
        let sig: Ed25519.Signature
        do {
            key = try Ed25519.PublicKey(hex: publicKey)
        } catch {
            throw CLIFailure.usage("--public-key: \(error.description)")
        }
        do {
            sig = try Ed25519.Signature(hex: signature)
        } catch {
            throw CLIFailure.usage("--signature: \(error.description)")
        }
        let message = try InputFiles.read(input)
        if key.isValidSignature(sig, for: message) {
            if json { try Console.printJSON(Result(valid: true, reason: nil)) } else { print("valid") }
            return
        }
        let reason = "the signature does not verify for this public key and input"
        guard json else { throw CLIFailure.failed("invalid: \(reason)") }
        try Console.printJSON(Result(valid: false, reason: reason))
        throw ExitCode(CLIFailure.failureStatus)
    }
}
