public import ChorusCrypto
public import ChorusWorkerAPI

extension LlamaConfig {
    /// The devnet's second PoC model (Specs/poc-kernel.md §9): hidden 256, 8 layers, 8 heads /
    /// 4 KV heads, ffn 768, byte-level vocabulary, 512 positions — 6.4 M parameters.
    public static let syntheticDevnet = LlamaConfig(
        hiddenSize: 256, layerCount: 8, headCount: 8, kvHeadCount: 4, feedForwardSize: 768,
        vocabularySize: 256, contextLength: 512, ropeBase: 10_000, rmsEpsilon: 1e-5, tiedEmbeddings: true)
}

extension SyntheticPreset {
    /// The configuration the preset names.
    public var config: LlamaConfig {
        switch self {
        case .tiny: .syntheticTiny
        case .devnet: .syntheticDevnet
        }
    }
}

extension SyntheticModel {
    /// Presets by the names the worker protocol uses (`synthetic.preset`).
    public static let presets: [String: LlamaConfig] =
        Dictionary(uniqueKeysWithValues: SyntheticPreset.allCases.map { ($0.rawValue, $0.config) })

    /// The seed the devnet and the test vectors use: bytes 00 01 … 1f.
    public static let devnetSeed = SyntheticPreset.devnetSeed

    /// The model's identity (Specs/poc-kernel.md §7.2): BLAKE2b-256 over the resolved
    /// configuration and the seed, which fully determine every weight, written `blake2b:<hex>`.
    public var digest: String {
        let c = config
        var data = Array("chorus/synthetic-model/1\0".utf8)
        for v in [c.hiddenSize, c.layerCount, c.headCount, c.kvHeadCount, c.headDimension, c.feedForwardSize,
                  c.vocabularySize, c.contextLength, c.ropeDimensions] {
            data += PoCKernel.u32(v)
        }
        data += PoCKernel.u32(Int(c.ropeBase.bitPattern)) + PoCKernel.u32(Int(c.rmsEpsilon.bitPattern))
        data.append(c.tiedEmbeddings ? 1 : 0)
        data += seed.bytes
        return "blake2b:" + Blake2b.hash256(data).hex
    }
}
