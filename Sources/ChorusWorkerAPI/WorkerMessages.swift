// The JSON messages of the worker protocol v1 (Specs/worker.md). Property names are the
// protocol's field names in camelCase: encode with `.convertToSnakeCase` and decode with
// `.convertFromSnakeCase` (WorkerJSON does). Optional request fields take the
// defaults the spec lists.

/// A model's shape as the protocol writes it (§4.4 CONFIG).
public struct ModelConfigMessage: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var feedForwardSize: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var headDim: Int?
    public var ropeBase: Double?
    public var ropeDimensions: Int?
    public var rmsEpsilon: Double?
    public var tiedEmbeddings: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case hiddenSize, layerCount, headCount, kvHeadCount, feedForwardSize, vocabSize, contextLength
        case headDim, ropeBase, ropeDimensions, rmsEpsilon, tiedEmbeddings
    }

    /// Any key, to find the ones this message does not define.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(hiddenSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int, feedForwardSize: Int, vocabSize: Int,
                contextLength: Int, headDim: Int? = nil, ropeBase: Double? = nil, ropeDimensions: Int? = nil,
                rmsEpsilon: Double? = nil, tiedEmbeddings: Bool? = nil) {
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.feedForwardSize = feedForwardSize
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.headDim = headDim
        self.ropeBase = ropeBase
        self.ropeDimensions = ropeDimensions
        self.rmsEpsilon = rmsEpsilon
        self.tiedEmbeddings = tiedEmbeddings
    }
}

/// Where a resident model's weights come from.
public struct ModelSourceMessage: Codable, Sendable, Equatable {
    /// `file` or `synthetic`.
    public var kind: String
    public var path: String?
    public var config: ModelConfigMessage?
    public var seed: String?

    public init(kind: String, path: String? = nil, config: ModelConfigMessage? = nil, seed: String? = nil) {
        self.kind = kind
        self.path = path
        self.config = config
        self.seed = seed
    }
}

/// MODEL (§4.1).
public struct ModelMessage: Codable, Sendable, Equatable {
    public var id: String
    public var digest: String
    public var source: ModelSourceMessage
    public var config: ModelConfigMessage
    public var parameters: Int
    public var tokenizer: Bool
    public var chatTemplate: Bool
    public var eosId: Int?
    public var loadedAt: Double

    public init(id: String, digest: String, source: ModelSourceMessage, config: ModelConfigMessage, parameters: Int,
                tokenizer: Bool, chatTemplate: Bool, eosId: Int? = nil, loadedAt: Double) {
        self.id = id
        self.digest = digest
        self.source = source
        self.config = config
        self.parameters = parameters
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.eosId = eosId
        self.loadedAt = loadedAt
    }
}

public struct WorkerLimits: Codable, Sendable, Equatable {
    public var maxBodyBytes = 16 << 20
    public var maxVerifyNonces = 4096
    public var maxBatchSize = 4096
    public var maxJobs = 16
    public var maxBacklogArtifacts = 16_384
    public var maxWaitMs = 30_000
    public var maxBatchesPerPull = 1024
    public var maxTokens = 4096
    public var maxTopLogprobs = 20
    public var maxConcurrentRequests = 8
    public var maxTextBytes = 1 << 20
    public var maxSeqLen = 4096

    public init() {}
}

/// `GET /v1/info`.
public struct InfoMessage: Codable, Sendable, Equatable {
    public struct Worker: Codable, Sendable, Equatable {
        public var name: String
        public var version: String

        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }
    public struct Backend: Codable, Sendable, Equatable {
        public var name: String
        public var device: String
        public var dtype: String

        public init(name: String, device: String, dtype: String) {
            self.name = name
            self.device = device
            self.dtype = dtype
        }
    }
    public struct PoC: Codable, Sendable, Equatable {
        public var specs: [String]
        public var kDim: Int
        public var defaultBatchSize: Int

        public init(specs: [String], kDim: Int, defaultBatchSize: Int) {
            self.specs = specs
            self.kDim = kDim
            self.defaultBatchSize = defaultBatchSize
        }
    }
    public var `protocol`: Int
    public var worker: Worker
    public var backend: Backend
    public var poc: PoC
    public var limits: WorkerLimits
    public var models: [ModelMessage]

    public init(`protocol`: Int, worker: Worker, backend: Backend, poc: PoC, limits: WorkerLimits, models: [ModelMessage]) {
        self.`protocol` = `protocol`
        self.worker = worker
        self.backend = backend
        self.poc = poc
        self.limits = limits
        self.models = models
    }
}

public struct ModelsMessage: Codable, Sendable, Equatable {
    public var models: [ModelMessage]

    public init(models: [ModelMessage]) {
        self.models = models
    }
}

/// `GET /v1/state`: the health check a node polls.
public struct StateMessage: Codable, Sendable, Equatable {
    public struct Activities: Codable, Sendable, Equatable {
        public var loading: Int
        public var verifying: Int
        public var serving: Int
        public var pocJobsRunning: Int

        public init(loading: Int, verifying: Int, serving: Int, pocJobsRunning: Int) {
            self.loading = loading
            self.verifying = verifying
            self.serving = serving
            self.pocJobsRunning = pocJobsRunning
        }
    }
    public struct Job: Codable, Sendable, Equatable {
        public var id: String
        public var state: String
        public var model: String
        public var noncesDone: UInt64

        public init(id: String, state: String, model: String, noncesDone: UInt64) {
            self.id = id
            self.state = state
            self.model = model
            self.noncesDone = noncesDone
        }
    }
    public var state: String
    public var since: Double
    public var activities: Activities
    public var jobs: [Job]
    public var models: [String]

    public init(state: String, since: Double, activities: Activities, jobs: [Job], models: [String]) {
        self.state = state
        self.since = since
        self.activities = activities
        self.jobs = jobs
        self.models = models
    }
}

public struct StopMessage: Codable, Sendable, Equatable {
    public var stoppedJobs: [String]
    public var cancelledRequests: Int

    public init(stoppedJobs: [String], cancelledRequests: Int) {
        self.stoppedJobs = stoppedJobs
        self.cancelledRequests = cancelledRequests
    }
}

/// `POST /v1/models/load`: a file (`path`) or a synthetic model (`synthetic`).
public struct LoadModelRequest: Codable, Sendable, Equatable {
    public struct Synthetic: Codable, Sendable, Equatable {
        public var preset: String?
        public var seed: String
        public var config: ModelConfigMessage?

        enum CodingKeys: String, CodingKey { case preset, seed, config }

        /// Refuses unknown configuration keys (Specs/worker.md §4.4): a misspelt optional field
        /// would otherwise silently take its default and build a different model. (Replies stay
        /// lenient: clients ignore fields they do not know.)
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            preset = try c.decodeIfPresent(String.self, forKey: .preset)
            seed = try c.decode(String.self, forKey: .seed)
            config = try c.decodeIfPresent(ModelConfigMessage.self, forKey: .config)
            if config != nil {
                let keys = try c.nestedContainer(keyedBy: ModelConfigMessage.AnyKey.self, forKey: .config).allKeys
                let known = Set(ModelConfigMessage.CodingKeys.allCases.map(\.stringValue))
                if let unknown = keys.first(where: { !known.contains($0.stringValue) }) {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [CodingKeys.config, unknown],
                                                            debugDescription: "unknown configuration key"))
                }
            }
        }

        public init(preset: String? = nil, seed: String, config: ModelConfigMessage? = nil) {
            self.preset = preset
            self.seed = seed
            self.config = config
        }
    }
    public var id: String
    public var path: String?
    public var digest: String?
    public var synthetic: Synthetic?

    public init(id: String, path: String? = nil, digest: String? = nil, synthetic: Synthetic? = nil) {
        self.id = id
        self.path = path
        self.digest = digest
        self.synthetic = synthetic
    }
}

public struct UnloadMessage: Codable, Sendable, Equatable {
    public var unloaded: String

    public init(unloaded: String) {
        self.unloaded = unloaded
    }
}

/// The kernel inputs every PoC request carries (§5).
public struct PoCParamsMessage: Codable, Sendable, Equatable {
    public var seqLen: Int
    public var kDim: Int?
    public init(seqLen: Int, kDim: Int? = nil) {
        self.seqLen = seqLen
        self.kDim = kDim
    }
}

/// `POST /v1/poc/jobs`.
public struct PoCJobRequest: Codable, Sendable, Equatable {
    public var spec: String?
    public var model: String
    public var seed: String
    public var participant: String
    public var params: PoCParamsMessage
    public var nonceOffset: UInt64?
    public var nonceStride: UInt64?
    public var nonceCount: UInt64?
    public var batchSize: Int?

    public init(model: String, seed: String, participant: String, params: PoCParamsMessage,
                nonceOffset: UInt64? = nil, nonceStride: UInt64? = nil, nonceCount: UInt64? = nil, batchSize: Int? = nil) {
        self.model = model
        self.seed = seed
        self.participant = participant
        self.params = params
        self.nonceOffset = nonceOffset
        self.nonceStride = nonceStride
        self.nonceCount = nonceCount
        self.batchSize = batchSize
    }
}

/// A PoC job's status (§5.1).
public struct JobStatusMessage: Codable, Sendable, Equatable {
    public var id: String
    /// `running`, `done`, `stopped` or `failed`.
    public var state: String
    public var error: String?
    public var model: String
    public var spec: String
    public var seed: String
    public var participant: String
    public var params: PoCParamsMessage
    public var nonceOffset: UInt64
    public var nonceStride: UInt64
    public var nonceCount: UInt64?
    public var batchSize: Int
    public var noncesDone: UInt64
    public var artifactsTotal: UInt64
    public var skippedTotal: UInt64
    public var backlog: Int
    public var noncesPerSecond: Double
    public var created: Double
    public var finished: Double?
    public var lastSeq: UInt64

    // Absent values are written as null, as the spec's status object shows them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(state, forKey: .state)
        try c.encode(error, forKey: .error)
        try c.encode(model, forKey: .model)
        try c.encode(spec, forKey: .spec)
        try c.encode(seed, forKey: .seed)
        try c.encode(participant, forKey: .participant)
        try c.encode(params, forKey: .params)
        try c.encode(nonceOffset, forKey: .nonceOffset)
        try c.encode(nonceStride, forKey: .nonceStride)
        try c.encode(nonceCount, forKey: .nonceCount)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(noncesDone, forKey: .noncesDone)
        try c.encode(artifactsTotal, forKey: .artifactsTotal)
        try c.encode(skippedTotal, forKey: .skippedTotal)
        try c.encode(backlog, forKey: .backlog)
        try c.encode(noncesPerSecond, forKey: .noncesPerSecond)
        try c.encode(created, forKey: .created)
        try c.encode(finished, forKey: .finished)
        try c.encode(lastSeq, forKey: .lastSeq)
    }

    public init(id: String, state: String, error: String? = nil, model: String, spec: String, seed: String, participant: String,
                params: PoCParamsMessage, nonceOffset: UInt64, nonceStride: UInt64, nonceCount: UInt64? = nil, batchSize: Int,
                noncesDone: UInt64, artifactsTotal: UInt64, skippedTotal: UInt64, backlog: Int, noncesPerSecond: Double,
                created: Double, finished: Double? = nil, lastSeq: UInt64) {
        self.id = id
        self.state = state
        self.error = error
        self.model = model
        self.spec = spec
        self.seed = seed
        self.participant = participant
        self.params = params
        self.nonceOffset = nonceOffset
        self.nonceStride = nonceStride
        self.nonceCount = nonceCount
        self.batchSize = batchSize
        self.noncesDone = noncesDone
        self.artifactsTotal = artifactsTotal
        self.skippedTotal = skippedTotal
        self.backlog = backlog
        self.noncesPerSecond = noncesPerSecond
        self.created = created
        self.finished = finished
        self.lastSeq = lastSeq
    }
}

public struct JobsMessage: Codable, Sendable, Equatable {
    public var jobs: [JobStatusMessage]

    public init(jobs: [JobStatusMessage]) {
        self.jobs = jobs
    }
}

/// One nonce's artifact; `vector` (48 hex) is nil when it has none.
public struct ArtifactMessage: Codable, Sendable, Equatable {
    public var nonce: UInt64
    public var vector: String?
    public init(nonce: UInt64, vector: String?) {
        self.nonce = nonce
        self.vector = vector
    }
}

public struct ArtifactBatchMessage: Codable, Sendable, Equatable {
    public var seq: UInt64
    public var artifacts: [ArtifactMessage]
    public var skipped: [UInt64]

    public init(seq: UInt64, artifacts: [ArtifactMessage], skipped: [UInt64]) {
        self.seq = seq
        self.artifacts = artifacts
        self.skipped = skipped
    }
}

/// `GET /v1/poc/jobs/{id}/artifacts`.
public struct ArtifactsMessage: Codable, Sendable, Equatable {
    public var job: JobStatusMessage
    public var batches: [ArtifactBatchMessage]
    public var cursor: UInt64

    public init(job: JobStatusMessage, batches: [ArtifactBatchMessage], cursor: UInt64) {
        self.job = job
        self.batches = batches
        self.cursor = cursor
    }
}

public struct DeleteJobMessage: Codable, Sendable, Equatable {
    public var deleted: String
    public var state: String
    public var noncesDone: UInt64

    public init(deleted: String, state: String, noncesDone: UInt64) {
        self.deleted = deleted
        self.state = state
        self.noncesDone = noncesDone
    }
}

/// `POST /v1/poc/verify`.
public struct VerifyRequest: Codable, Sendable, Equatable {
    public var spec: String?
    public var model: String
    public var seed: String
    public var participant: String
    public var params: PoCParamsMessage
    public var nonces: [UInt64]
    public var vectors: [String?]?

    public init(model: String, seed: String, participant: String, params: PoCParamsMessage, nonces: [UInt64], vectors: [String?]? = nil) {
        self.model = model
        self.seed = seed
        self.participant = participant
        self.params = params
        self.nonces = nonces
        self.vectors = vectors
    }
}

public struct VerifyMessage: Codable, Sendable, Equatable {
    public var spec: String
    public var model: String
    public var artifacts: [ArtifactMessage]
    public var distances: [Double?]?

    // `distances` entries may be null, so the list is encoded element by element.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(spec, forKey: .spec)
        try c.encode(model, forKey: .model)
        try c.encode(artifacts, forKey: .artifacts)
        try c.encodeIfPresent(distances, forKey: .distances)
    }

    public init(spec: String, model: String, artifacts: [ArtifactMessage], distances: [Double?]? = nil) {
        self.spec = spec
        self.model = model
        self.artifacts = artifacts
        self.distances = distances
    }
}

/// A `[token id, logprob]` pair, encoded as a two-element JSON array.
public struct TopEntry: Codable, Sendable, Equatable {
    public var id: Int
    public var logprob: Double

    public init(id: Int, logprob: Double) {
        self.id = id
        self.logprob = logprob
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        id = try c.decode(Int.self)
        logprob = try c.decode(Double.self)
        guard c.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a top entry is [id, logprob]")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(id)
        try c.encode(logprob)
    }
}

/// `sampling` of `POST /v1/generate` (Specs/worker.md §6.1). Sampled tokens come from the public
/// tape of Specs/inference.md §4 keyed by `tape_seed` (the inference seed, 64 hex characters), or
/// by a key derived from the u64 `seed`; at most one of the two.
public struct SamplingMessage: Codable, Sendable, Equatable {
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var seed: UInt64?
    public var tapeSeed: String?
    public init(temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil, seed: UInt64? = nil, tapeSeed: String? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.tapeSeed = tapeSeed
    }
}

/// `POST /v1/generate`.
public struct GenerateRequest: Codable, Sendable, Equatable {
    public var model: String
    public var promptTokens: [Int]
    public var maxTokens: Int?
    public var sampling: SamplingMessage?
    public var topLogprobs: Int?
    public var stopTokens: [Int]?
    public var stream: Bool?

    public init(model: String, promptTokens: [Int], maxTokens: Int? = nil, sampling: SamplingMessage? = nil,
                topLogprobs: Int? = nil, stopTokens: [Int]? = nil, stream: Bool? = nil) {
        self.model = model
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.topLogprobs = topLogprobs
        self.stopTokens = stopTokens
        self.stream = stream
    }
}

/// One generated token: a stream line, or an entry of the non-streamed reply.
public struct TokenLineMessage: Codable, Sendable, Equatable {
    public var index: Int
    public var id: Int
    public var logprob: Double
    public var top: [TopEntry]
    /// The tape's decision at this position; absent when the token was chosen greedily.
    public var tape: TapeMessage?

    public init(index: Int, id: Int, logprob: Double, top: [TopEntry], tape: TapeMessage? = nil) {
        self.index = index
        self.id = id
        self.logprob = logprob
        self.top = top
        self.tape = tape
    }
}

/// `tape` of a token line: what the tape chose, from how many kept tokens, and by what margin
/// over the best other kept token (`z + g` units; absent when only one token was kept).
public struct TapeMessage: Codable, Sendable, Equatable {
    public var choice: Int
    public var kept: Int
    public var margin: Double?

    public init(choice: Int, kept: Int, margin: Double?) {
        self.choice = choice
        self.kept = kept
        self.margin = margin
    }
}

public struct UsageMessage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Why a generation ended: `finish_reason` of its reply or last stream line.
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// A stop token was generated.
    case stop
    /// `maxTokens` or the context length was reached.
    case length
    /// The streaming callback asked to stop.
    case cancelled
}

/// The last line of a generation stream.
public struct GenerateEndMessage: Codable, Sendable, Equatable {
    public var finishReason: String
    public var seed: UInt64?
    public var usage: UsageMessage

    public init(finishReason: String, seed: UInt64?, usage: UsageMessage) {
        self.finishReason = finishReason
        self.seed = seed
        self.usage = usage
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(finishReason, forKey: .finishReason)
        try c.encode(seed, forKey: .seed)  // null when greedy, as the spec shows
        try c.encode(usage, forKey: .usage)
    }
}

/// The non-streamed generation reply.
public struct GenerateMessage: Codable, Sendable, Equatable {
    public var tokens: [TokenLineMessage]
    public var finishReason: String
    public var seed: UInt64?
    public var usage: UsageMessage

    public init(tokens: [TokenLineMessage], finishReason: String, seed: UInt64?, usage: UsageMessage) {
        self.tokens = tokens
        self.finishReason = finishReason
        self.seed = seed
        self.usage = usage
    }
}

/// `POST /v1/score`.
public struct ScoreRequestMessage: Codable, Sendable, Equatable {
    public var model: String
    public var promptTokens: [Int]
    public var completionTokens: [Int]
    public var topLogprobs: Int?
    /// A validator's check (worker.md §6.2, inference.md §7.1): with it, each scored token also
    /// reports what this sampling (its `tape_seed` the receipt's seed) chooses there.
    public var sampling: SamplingMessage?

    public init(model: String, promptTokens: [Int], completionTokens: [Int], topLogprobs: Int? = nil, sampling: SamplingMessage? = nil) {
        self.model = model
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.topLogprobs = topLogprobs
        self.sampling = sampling
    }
}

public struct ScoredTokenMessage: Codable, Sendable, Equatable {
    public var id: Int
    public var logprob: Double
    public var top: [TopEntry]
    /// Only when the request gave `sampling`.
    public var choice: ChoiceMessage?

    public init(id: Int, logprob: Double, top: [TopEntry], choice: ChoiceMessage? = nil) {
        self.id = id
        self.logprob = logprob
        self.top = top
        self.choice = choice
    }
}

/// `choice` of a scored token: the token the request's sampling chooses at this position from the
/// worker's own logits, the kept-set size, and the choice's score minus the scored token's (0 when
/// they are the same token; absent when the scored token is outside the kept set).
public struct ChoiceMessage: Codable, Sendable, Equatable {
    public var token: Int
    public var kept: Int
    public var margin: Double?

    public init(token: Int, kept: Int, margin: Double?) {
        self.token = token
        self.kept = kept
        self.margin = margin
    }
}

public struct ScoreMessage: Codable, Sendable, Equatable {
    public var model: String
    public var tokens: [ScoredTokenMessage]
    public var usage: UsageMessage

    public init(model: String, tokens: [ScoredTokenMessage], usage: UsageMessage) {
        self.model = model
        self.tokens = tokens
        self.usage = usage
    }
}

/// One chat turn (`messages` of a tokenize request; rendered by the model's chat template).
public struct ChatMessage: Sendable, Equatable, Hashable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// `POST /v1/tokenize`: `text`, or chat `messages` rendered with the model's template.
public struct TokenizeRequest: Codable, Sendable, Equatable {
    public var model: String
    public var text: String?
    public var messages: [ChatMessage]?
    public var addGenerationPrompt: Bool?
    public var parseSpecial: Bool?

    public init(model: String, text: String? = nil, messages: [ChatMessage]? = nil,
                addGenerationPrompt: Bool? = nil, parseSpecial: Bool? = nil) {
        self.model = model
        self.text = text
        self.messages = messages
        self.addGenerationPrompt = addGenerationPrompt
        self.parseSpecial = parseSpecial
    }
}

public struct TokenizeMessage: Codable, Sendable, Equatable {
    public var model: String
    public var tokens: [Int]
    public var text: String?

    public init(model: String, tokens: [Int], text: String? = nil) {
        self.model = model
        self.tokens = tokens
        self.text = text
    }
}

public struct DetokenizeRequest: Codable, Sendable, Equatable {
    public var model: String
    public var tokens: [Int]
    public var skipSpecial: Bool?
    public init(model: String, tokens: [Int], skipSpecial: Bool? = nil) {
        self.model = model
        self.tokens = tokens
        self.skipSpecial = skipSpecial
    }
}

public struct DetokenizeMessage: Codable, Sendable, Equatable {
    public var model: String
    public var text: String

    public init(model: String, text: String) {
        self.model = model
        self.text = text
    }
}
