import ArgumentParser

/// `chorus statement`: signed statements, the envelope of everything nodes gossip.
struct StatementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statement",
        abstract: "Create and decode signed statements (Specs/statements.md).",
        discussion: """
            EXAMPLES:
              chorus statement sign --key node.key --network chorus-devnet --type text \\
                --epoch 0 --seq 1 --data hello --out hello.stmt
              chorus statement decode --in hello.stmt
            """,
        subcommands: [StatementDecodeCommand.self, StatementSignCommand.self]
    )
}
