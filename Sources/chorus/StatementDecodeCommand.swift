import ArgumentParser
import ChorusCrypto
import ChorusWire

/// `chorus statement decode`: shows every field of a signed statement.
struct StatementDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode and verify a signed statement and print it as JSON.",
        discussion: """
            The input is the binary encoding (or hex with --hex). It is decoded strictly and its \
            signature verified; on any problem the command prints the precise reason (which \
            field, which rule) and exits 1. The output shows every field, the message id, the \
            signature, and the body as hex and, when it is UTF-8, as text.

            EXAMPLES:
              chorus statement decode --in hello.stmt
              chorus statement sign ... | chorus statement decode --hex
            """
    )

    @Option(name: .customLong("in"), help: ArgumentHelp("File holding the statement (default: standard input).", valueName: "file"))
    var input: String?

    @Flag(name: .long, help: "The input is hex text rather than binary.")
    var hex = false

    /// The JSON shape (keys in snake_case, sorted); `body_text` only when the body is UTF-8.
    struct Output: Encodable {
        let version: UInt8
        let networkID: String
        let type: String
        let epoch: UInt64
        let author: String
        let seq: UInt64
        let id: String
        let signature: String
        let bodyLength: Int
        let bodyHex: String
        let bodyText: String?
        let encodedLength: Int
    }

    func run() throws {
        var bytes = try InputFiles.read(input)
        if hex {
            do {
                bytes = try Hex.decode(String(decoding: bytes, as: UTF8.self))
            } catch {
                throw CLIFailure.failed("input is not hex: \(error.description)")
            }
        }
        let statement: SignedStatement
        do {
            statement = try SignedStatement.decode(bytes)
        } catch {
            throw CLIFailure.failed("not a valid signed statement (\(error.code)): \(error.description)")
        }
        try Console.printJSON(Output(
            version: statement.version, networkID: statement.networkID, type: statement.type.name,
            epoch: statement.epoch, author: statement.author.hex, seq: statement.seq,
            id: statement.id.hex, signature: statement.signature.hex,
            bodyLength: statement.body.count, bodyHex: Hex.encode(statement.body),
            bodyText: String(validating: statement.body, as: UTF8.self),
            encodedLength: statement.encoded.count))
    }
}
