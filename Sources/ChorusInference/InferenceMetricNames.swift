/// The inference metric families the OpenAI-compatible API exports, under vLLM's names and with
/// its `model_name` label (vLLM v1, docs "Production Metrics"), so dashboards and alerts built for
/// a vLLM server work on a Chorus node unchanged. Only ids of models the node can serve become
/// label values (never keys, paths or addresses), so the series count stays bounded.
///
/// Kept apart from the node's `chorus_` families: these exist only where the API listens and after
/// its first request for a model, as in vLLM.
public enum InferenceMetricNames {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public struct Family: Sendable, Equatable {
        public let name: String
        public let kind: Kind
        public let help: String
        /// Upper bounds, in seconds, of a histogram's buckets (vLLM's own); empty for the others.
        public let buckets: [Double]
    }

    public static let modelLabel = "model_name"
    public static let finishedReasonLabel = "finished_reason"

    public static let requestsRunning = "vllm:num_requests_running"
    public static let requestsWaiting = "vllm:num_requests_waiting"
    public static let timeToFirstToken = "vllm:time_to_first_token_seconds"
    public static let interTokenLatency = "vllm:inter_token_latency_seconds"
    public static let endToEndLatency = "vllm:e2e_request_latency_seconds"
    public static let promptTokens = "vllm:prompt_tokens_total"
    public static let generationTokens = "vllm:generation_tokens_total"
    public static let requestSuccess = "vllm:request_success_total"

    public static let all: [Family] = [
        Family(name: requestsRunning, kind: .gauge, help: "Requests generating (their first token has come), by model.", buckets: []),
        Family(name: requestsWaiting, kind: .gauge,
               help: "Requests admitted whose first token has not come yet (routing, the executor's queue, the prompt), by model.", buckets: []),
        Family(name: timeToFirstToken, kind: .histogram, help: "Seconds from admitting a request to its first piece of text, by model.",
               buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560]),
        Family(name: interTokenLatency, kind: .histogram,
               help: "Seconds between successive pieces of text of a request (one per token, except where a split character or a held-back stop sequence joins tokens), by model.",
               buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80]),
        Family(name: endToEndLatency, kind: .histogram, help: "Seconds from admitting a request to its end, by model.",
               buckets: [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680]),
        Family(name: promptTokens, kind: .counter, help: "Prompt tokens of finished requests, by model.", buckets: []),
        Family(name: generationTokens, kind: .counter, help: "Generated tokens of finished requests, by model.", buckets: []),
        Family(name: requestSuccess, kind: .counter,
               help: "Requests that ended, by model and finished_reason: stop, length, abort (the client went away) or error (the node or its executors failed; requests refused as invalid are not counted).", buckets: []),
    ]

    /// Help text by family name.
    public static let help: [String: String] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.help) })
    /// Histogram buckets (seconds) by family name.
    public static let buckets: [String: [Double]] = Dictionary(uniqueKeysWithValues: all.filter { $0.kind == .histogram }.map { ($0.name, $0.buckets) })
}
