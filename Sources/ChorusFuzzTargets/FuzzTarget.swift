/// One fuzz target: a decoder that a peer or a file reaches, fed arbitrary bytes. Decoding errors are
/// expected and ignored; a trap (a crash in the decoder, or a failed round-trip check below) is what
/// libFuzzer reports.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable ([UInt8]) -> Void

    public init(name: String, summary: String, run: @escaping @Sendable ([UInt8]) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

public enum FuzzTargets {
    /// Every target, in a stable order (`chorus-fuzz --list`, Tools/fuzz.sh).
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "frame", summary: "transport frame decoder (FrameDecoder), chunked, re-framed", run: WireTargets.frame),
        FuzzTarget(name: "noise-handshake", summary: "NoiseHandshake.readMessage: fresh responder (message 1), initiator (message 2)",
                   run: WireTargets.noiseHandshake),
        FuzzTarget(name: "identity-proof", summary: "IdentityProof.verify: a valid key and signature, fuzzed extensions",
                   run: WireTargets.identityProof),
        FuzzTarget(name: "noise-session", summary: "NoiseSession.open on an established session: fuzzed plaintexts encrypted with the peer's key",
                   run: WireTargets.noiseSession),
        FuzzTarget(name: "gossip-rpc", summary: "GossipRPC(decoding:maxPayload:), re-encoded", run: WireTargets.gossipRPC),
        FuzzTarget(name: "statement", summary: "UnverifiedStatement(decoding:) and the body its type names, re-encoded",
                   run: StatementTargets.statement),
        FuzzTarget(name: "statement-body", summary: "every statement body type (first byte selects) and WeightTable, re-encoded",
                   run: StatementTargets.statementBody),
        FuzzTarget(name: "sync-message", summary: "SyncMessage(decoding:maxStatement:), re-encoded", run: WireTargets.syncMessage),
        FuzzTarget(name: "peer-record", summary: "PeerRecord(decoding:), re-encoded", run: WireTargets.peerRecord),
        FuzzTarget(name: "peer-exchange", summary: "PeerExchangeMessage(decoding:), re-encoded", run: WireTargets.peerExchange),
        FuzzTarget(name: "swim-datagram", summary: "SWIMDatagram(verifying:networkID:): raw (first byte 0) or signed by a fixed key (else)",
                   run: WireTargets.swimDatagram),
        FuzzTarget(name: "proof-message", summary: "ProofMessage(decoding:), re-encoded", run: StatementTargets.proofMessage),
        FuzzTarget(name: "gguf", summary: "GGUFFile(path:) on a temporary file, every small tensor dequantized", run: FileTargets.gguf),
        FuzzTarget(name: "network-file", summary: "NetworkFile.parseDocument (TOML text)", run: FileTargets.networkFile),
        FuzzTarget(name: "control-request", summary: "ControlRequest JSON as the control server decodes it", run: FileTargets.controlRequest),
        FuzzTarget(name: "worker-json", summary: "worker request bodies (first byte selects the type), decoded as WorkerJSON.decode does",
                   run: FileTargets.workerJSON),
        FuzzTarget(name: "epoch-export", summary: "EpochExport JSON, then verify(parameters:) with the devnet network file",
                   run: FileTargets.epochExport),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// A failed round trip: decoding accepted bytes that do not re-encode to themselves (or an
/// invariant of the decoded value does not hold). Traps so that libFuzzer records the input.
@inline(never)
func check(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { preconditionFailure("fuzz check failed: \(what())") }
}
