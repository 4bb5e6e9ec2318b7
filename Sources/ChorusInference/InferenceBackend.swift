/// What the API asks of whoever runs inference: this node's worker today (`WorkerBackend`), the
/// mesh's executors through a gateway next. The API itself only parses, bounds, streams and
/// formats.
public protocol InferenceBackend: Sendable {
    /// Ids of the models requests may name.
    func models() async throws(OpenAIError) -> [String]

    /// Runs `job`, handing each piece of final text to `onDelta` as soon as it is known;
    /// `onDelta` returning false (the client went away) stops the generation at its next token.
    func run(_ job: InferenceJob, limits: APILimits,
             onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome
}
