import ArgumentParser
import ChorusCrypto
import ChorusWire

/// `chorus statement sign`: builds a signed statement, for tests and development.
struct StatementSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a statement and print it as hex (or write it to a file).",
        discussion: """
            The body is --data (UTF-8 text) or the bytes of --in. Without --out the encoded \
            statement is printed as one line of hex; with --out it is written there in binary \
            and its message id is printed. Malformed fields (network id, type, body over 1 MiB) \
            exit 2; an unusable key file exits 1.

            EXAMPLES:
              chorus statement sign --key node.key --network chorus-devnet --type text \\
                --epoch 0 --seq 1 --data hello
              chorus statement sign --key node.key --network chorus-devnet --type vote \\
                --epoch 12 --seq 40 --in vote-body.bin --out vote.stmt --json
            """
    )

    @Option(name: .long, help: ArgumentHelp("The author's key file.", valueName: "file"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("Network id: 1-64 characters of a-z 0-9 - . _", valueName: "id"))
    var network: String

    @Option(name: .long, help: ArgumentHelp("Statement type: 1-32 characters of a-z 0-9 -", valueName: "type"))
    var type: String

    @Option(name: .long, help: "Epoch number.")
    var epoch: UInt64

    @Option(name: .long, help: "The author's sequence number.")
    var seq: UInt64

    @Option(name: .long, help: ArgumentHelp("Body as UTF-8 text.", valueName: "text"))
    var data: String?

    @Option(name: .customLong("in"), help: ArgumentHelp("File whose bytes are the body.", valueName: "file"))
    var input: String?

    @Option(name: .long, help: ArgumentHelp("Write the binary statement to this file.", valueName: "file"))
    var out: String?

    @Flag(name: .long, help: "Print {\"id\", \"encoded\", \"path\"} as JSON.")
    var json = false

    struct Output: Encodable {
        let id: String
        let encoded: String
        let path: String?
    }

    func validate() throws {
        guard (data == nil) != (input == nil) else {
            throw ValidationError("give the body with exactly one of --data or --in")
        }
    }

    func run() throws {
        let statementType: StatementType
        do {
            statementType = try StatementType(type)
        } catch {
            throw CLIFailure.usage("--type: \(error.description)")
        }
        let body = try data.map { Array($0.utf8) } ?? InputFiles.read(input)
        let signingKey = try KeyLoading.load(key)
        let statement: SignedStatement
        do {
            statement = try SignedStatement.sign(
                networkID: network, type: statementType, epoch: epoch, seq: seq, body: body, key: signingKey)
        } catch {
            throw CLIFailure.usage(error.description)
        }
        if let out { try InputFiles.write(statement.encoded, to: out) }
        if json {
            try Console.printJSON(Output(id: statement.id.hex, encoded: Hex.encode(statement.encoded), path: out))
        } else if out != nil {
            print(statement.id.hex)
        } else {
            print(Hex.encode(statement.encoded))
        }
    }
}
