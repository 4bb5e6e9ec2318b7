import ChorusInference
import CoreMetrics
import Synchronization

/// An `InferenceBackend` that records vLLM's inference metrics (`InferenceMetricNames`) around
/// the backend it wraps: requests waiting for their first token and running, time to first
/// token, time between tokens, end-to-end latency, token counts and how requests ended.
///
/// Only a model the backend lists becomes a `model_name` value: a client may name any model, and a
/// label per invented name would let it grow the scrape without bound. Requests for other models
/// are passed through unrecorded (the backend refuses them anyway).
struct MeteredInferenceBackend: InferenceBackend {
    let backend: any InferenceBackend
    let factory: any MetricsFactory

    func models() async throws(OpenAIError) -> [String] {
        try await backend.models()
    }

    func run(_ job: InferenceJob, limits: APILimits,
             onDelta: @escaping @Sendable (CompletionDelta) -> Bool) async throws(OpenAIError) -> CompletionOutcome {
        guard let known = try? await backend.models(), known.contains(job.model) else {
            return try await backend.run(job, limits: limits, onDelta: onDelta)
        }
        let request = MeteredRequest(model: job.model, factory: factory)
        do {
            let outcome = try await backend.run(job, limits: limits) { delta in
                request.piece(delta)
                let goOn = onDelta(delta)
                if !goOn { request.clientLeft() }
                return goOn
            }
            request.finished(outcome)
            return outcome
        } catch {
            // A request the backend refused as invalid (4xx: no chat template, a prompt over the
            // context) was never served, as vLLM rejects such requests before counting them.
            request.failed(served: error.status >= 500)
            throw error
        }
    }
}

/// One request's clock and its place in the waiting/running gauges (deltas arrive on whatever
/// thread the backend calls from, hence the lock).
private final class MeteredRequest: Sendable {
    private struct State {
        var firstPiece: ContinuousClock.Instant?
        var lastPiece: ContinuousClock.Instant?
        var clientLeft = false
        var ended = false
    }

    private let model: [(String, String)]
    private let factory: any MetricsFactory
    private let admitted = ContinuousClock.now
    private let state = Mutex(State())

    init(model: String, factory: any MetricsFactory) {
        self.model = [(InferenceMetricNames.modelLabel, model)]
        self.factory = factory
        meter(InferenceMetricNames.requestsWaiting).increment()
    }

    private func meter(_ name: String) -> Meter { Meter(label: name, dimensions: model, factory: factory) }
    private func timer(_ name: String) -> Timer { Timer(label: name, dimensions: model, factory: factory) }

    /// A piece of text (or logprobs) arrived: the first moves the request from waiting to running.
    func piece(_ delta: CompletionDelta) {
        guard !delta.text.isEmpty || !delta.logprobs.isEmpty else { return }
        let now = ContinuousClock.now
        let previous = state.withLock { s -> (first: Bool, last: ContinuousClock.Instant?)? in
            guard !s.ended else { return nil }
            defer {
                s.lastPiece = now
                if s.firstPiece == nil { s.firstPiece = now }
            }
            return (s.firstPiece == nil, s.lastPiece)
        }
        guard let previous else { return }
        if previous.first {
            timer(InferenceMetricNames.timeToFirstToken).recordNanoseconds(admitted.duration(to: now).wholeNanoseconds)
            meter(InferenceMetricNames.requestsWaiting).decrement()
            meter(InferenceMetricNames.requestsRunning).increment()
        } else if let last = previous.last {
            timer(InferenceMetricNames.interTokenLatency).recordNanoseconds(last.duration(to: now).wholeNanoseconds)
        }
    }

    func clientLeft() { state.withLock { $0.clientLeft = true } }

    func finished(_ outcome: CompletionOutcome) {
        guard let clientLeft = end(served: true) else { return }
        Counter(label: InferenceMetricNames.promptTokens, dimensions: model, factory: factory).increment(by: outcome.promptTokens)
        Counter(label: InferenceMetricNames.generationTokens, dimensions: model, factory: factory).increment(by: outcome.completionTokens)
        count(clientLeft ? "abort" : outcome.finishReason.rawValue)
    }

    func failed(served: Bool) {
        guard end(served: served) != nil, served else { return }
        count("error")
    }

    /// Leaves the gauge the request is in and, for a request that was served, records its latency;
    /// whether the client left, nil when it had ended already.
    private func end(served: Bool) -> Bool? {
        let now = ContinuousClock.now
        guard let (started, clientLeft) = state.withLock({ s -> (Bool, Bool)? in
            guard !s.ended else { return nil }
            s.ended = true
            return (s.firstPiece != nil, s.clientLeft)
        }) else { return nil }
        meter(started ? InferenceMetricNames.requestsRunning : InferenceMetricNames.requestsWaiting).decrement()
        if served { timer(InferenceMetricNames.endToEndLatency).recordNanoseconds(admitted.duration(to: now).wholeNanoseconds) }
        return clientLeft
    }

    private func count(_ reason: String) {
        Counter(label: InferenceMetricNames.requestSuccess, dimensions: model + [(InferenceMetricNames.finishedReasonLabel, reason)],
                factory: factory).increment()
    }
}

private extension Duration {
    var wholeNanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
