import ArgumentParser
import ChorusWorkerHTTP

/// `chorus worker`: the model worker (PoC, generation, scoring) in-process or over HTTP.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the model worker: PoC artifacts, generation, scoring, tokenization (Specs/worker.md).",
        discussion: """
            By default each command runs the built-in CPU worker in this process and loads the \
            model it names. With --worker URL it talks to an HTTP worker instead (another \
            `chorus worker serve`, or the Python reference worker).

            Models: smollm2-135m (Tools/fetch-model.sh), synthetic:tiny, synthetic:devnet \
            (optionally synthetic:PRESET:SEEDHEX), ID=PATH for any Llama GGUF file, or the id \
            of a model the HTTP worker already holds.

            EXAMPLES:
              chorus worker generate --model smollm2-135m --prompt "What is the capital of France?"
              chorus worker score --model smollm2-135m --prompt "2+2=" --completion "4" --json
              chorus worker poc --model synthetic:tiny --seed 00..00 --participant 11..11 --nonces 0..7 --json
              chorus worker serve --listen 127.0.0.1:8090 --model synthetic:devnet
            """,
        subcommands: [
            WorkerInfoCommand.self,
            WorkerGenerateCommand.self,
            WorkerScoreCommand.self,
            WorkerTokenizeCommand.self,
            WorkerPoCCommand.self,
            WorkerServeCommand.self,
            WorkerCalibrateCommand.self,
        ]
    )
}
