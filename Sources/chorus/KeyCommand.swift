import ArgumentParser

/// `chorus key`: identity key files.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Create and inspect Ed25519 identity key files.",
        discussion: """
            A key file holds the 32-byte Ed25519 seed (RFC 8032) as hex, with mode 0600. Chorus \
            refuses to overwrite a key file and refuses to load one that group or others can read.

            EXAMPLES:
              chorus key new --out node.key
              chorus key show node.key
            """,
        subcommands: [KeyNewCommand.self, KeyShowCommand.self]
    )
}
