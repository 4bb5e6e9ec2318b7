public import ChorusWorkerAPI

/// A model's shape between the protocol's CONFIG object (Specs/worker.md §4.4) and the engine's
/// `LlamaConfig`.
extension ModelConfigMessage {
    public init(_ c: LlamaConfig) {
        self.init(hiddenSize: c.hiddenSize, layerCount: c.layerCount, headCount: c.headCount, kvHeadCount: c.kvHeadCount,
                  feedForwardSize: c.feedForwardSize, vocabSize: c.vocabularySize, contextLength: c.contextLength,
                  headDim: c.headDimension, ropeBase: Double(c.ropeBase), ropeDimensions: c.ropeDimensions,
                  rmsEpsilon: Double(c.rmsEpsilon), tiedEmbeddings: c.tiedEmbeddings)
    }

    /// The engine configuration, with the spec's defaults for absent optional fields.
    public var llamaConfig: LlamaConfig {
        LlamaConfig(hiddenSize: hiddenSize, layerCount: layerCount, headCount: headCount, kvHeadCount: kvHeadCount,
                    headDimension: headDim, feedForwardSize: feedForwardSize, vocabularySize: vocabSize,
                    contextLength: contextLength, ropeBase: Float(ropeBase ?? 10_000), ropeDimensions: ropeDimensions,
                    rmsEpsilon: Float(rmsEpsilon ?? 1e-5), tiedEmbeddings: tiedEmbeddings ?? true)
    }
}
