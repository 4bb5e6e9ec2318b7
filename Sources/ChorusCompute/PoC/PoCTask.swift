public import ChorusCrypto

/// The inputs that fix the artifact of every nonce (Specs/poc-kernel.md §3): the epoch seed, the
/// participant's Ed25519 public key, the network's model id and the model's PoC sequence length.
public struct PoCTask: Sendable, Hashable {
    public let seed: Bytes32
    public let participant: Bytes32
    public let modelID: String
    public let sequenceLength: Int

    /// Checks what the kernel hashes or needs: a model id of 1 to 255 UTF-8 bytes and a sequence
    /// length of at least 1 (the model's context bounds it when a computer is built).
    public init(seed: Bytes32, participant: Bytes32, modelID: String, sequenceLength: Int) throws(PoCError) {
        guard (1...255).contains(modelID.utf8.count) else { throw .invalidModelID(byteCount: modelID.utf8.count) }
        guard sequenceLength >= 1, sequenceLength <= PoCKernel.maximumSequenceLength else {
            throw .invalidSequenceLength(sequenceLength, maximum: PoCKernel.maximumSequenceLength)
        }
        self.seed = seed
        self.participant = participant
        self.modelID = modelID
        self.sequenceLength = sequenceLength
    }

    /// `str(M)`: u32 length ‖ UTF-8 bytes.
    var modelBytes: [UInt8] {
        let raw = Array(modelID.utf8)
        return PoCKernel.u32(raw.count) + raw
    }

    /// H("chorus/poc/1/nonce\0" ‖ seed ‖ P ‖ str(M) ‖ u32(T) ‖ u64(n)).
    public func nonceKey(_ nonce: UInt64) -> Bytes32 {
        Blake2b.hash256(PoCKernel.tagNonce + seed.bytes + participant.bytes + modelBytes
                        + PoCKernel.u32(sequenceLength) + PoCKernel.u64(nonce))
    }

    /// H("chorus/poc/1/layer\0" ‖ seed ‖ str(M) ‖ u32(l)): shared by all participants, so a
    /// validator checks many participants with one set of hooks.
    public func layerKey(_ layer: Int) -> Bytes32 {
        Blake2b.hash256(PoCKernel.tagLayer + seed.bytes + modelBytes + PoCKernel.u32(layer))
    }
}

/// Why a PoC request cannot run. `field` names the protocol field at fault (Specs/worker.md §3).
public enum PoCError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidModelID(byteCount: Int)
    case invalidSequenceLength(Int, maximum: Int)
    /// The model's hidden size is outside what chorus-poc/1 supports (12 ... 58,000).
    case unsupportedHiddenSize(Int)
    case invalidSchedule(reason: String)

    public var field: String {
        switch self {
        case .invalidModelID: "model"
        case .invalidSequenceLength: "params.seq_len"
        case .unsupportedHiddenSize: "model"
        case .invalidSchedule: "nonce_stride"
        }
    }

    public var description: String {
        switch self {
        case let .invalidModelID(n):
            "the model id must be 1 to 255 bytes of UTF-8, got \(n) bytes"
        case let .invalidSequenceLength(t, maximum):
            "seq_len \(t) is out of range; use 1 ... \(maximum) and at most the model's context length"
        case let .unsupportedHiddenSize(d):
            "chorus-poc/1 needs a hidden size of 12 ... 58,000; this model has \(d)"
        case let .invalidSchedule(reason):
            "invalid nonce schedule: \(reason)"
        }
    }
}
