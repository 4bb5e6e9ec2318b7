/// The length and stop reason a receipt may claim for an output (Specs/inference.md §5.2): the
/// output ends at its first stop and nowhere else, so a receipt cannot report tokens past a stop,
/// a `length` short of `max_tokens`, or a `stop` that did not happen.
public enum FinishRule {
    /// The finish reason `output` reaches under `request`, when it ended without cancellation:
    /// nil when `output` is a valid prefix that neither stopped nor reached `max_tokens` (only
    /// `cancelled` fits). Throws when the output runs past its first stop or past `max_tokens`.
    ///
    /// `stopSequenceEnd`: the first index `j` such that the decoded text of `output[0...j]`
    /// contains one of the request's stop sequences (nil: none, or no stop sequences).
    public static func reached(request: InferenceRequest, output: [UInt32], stopSequenceEnd: Int?) throws(ProtocolError) -> InferenceFinish? {
        func fail(_ reason: String) -> ProtocolError { .invalidStatement(type: "inference-receipt", reason: reason) }
        guard output.count <= Int(request.maxTokens) else { throw fail("\(output.count) output tokens exceed max_tokens \(request.maxTokens)") }
        if let j = stopSequenceEnd, !output.indices.contains(j) { throw fail("stop sequence end \(j) is outside the \(output.count) output tokens") }
        let stopTokens = Set(request.stopTokens)
        let firstStopToken = output.firstIndex { stopTokens.contains($0) }
        let firstStop = [firstStopToken, stopSequenceEnd].compactMap { $0 }.min()
        if let s = firstStop {
            guard s == output.count - 1 else { throw fail("the output continues \(output.count - 1 - s) tokens past its first stop at index \(s)") }
            return .stop
        }
        return output.count == Int(request.maxTokens) ? .length : nil
    }

    /// Throws unless `finish` is the reason `output` reaches (`cancelled` for an unfinished prefix).
    public static func check(request: InferenceRequest, output: [UInt32], finish: InferenceFinish, stopSequenceEnd: Int?) throws(ProtocolError) {
        let reached = try reached(request: request, output: output, stopSequenceEnd: stopSequenceEnd)
        guard finish == (reached ?? .cancelled) else {
            throw .invalidStatement(type: "inference-receipt",
                                    reason: "finish reason \(finish) for \(output.count) tokens of max \(request.maxTokens), the output reaches \(reached?.description ?? "neither stop nor length (cancelled)")")
        }
    }
}
