public import ChorusCrypto
public import ChorusWire

/// `certificate-signature`: "I computed weight table `digest` for the statement's epoch". The
/// statement's own Ed25519 signature is the certificate signature.
public struct CertificateSignatureBody: StatementBody, Sendable, Hashable {
    public static let statementType = StatementType.certificateSignature
    public static let version: UInt8 = 1

    public var tableDigest: Bytes32

    public init(tableDigest: Bytes32) { self.tableDigest = tableDigest }

    public func encode(to writer: inout WireWriter) {
        writer.writeU8(Self.version)
        writer.writeBytes32(tableDigest)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let version = try reader.readU8(field: "certificate-signature.version")
        guard version == Self.version else { throw .unknownVersion(what: "certificate-signature", version: Int(version), highestKnown: Int(Self.version)) }
        tableDigest = try reader.readBytes32(field: "certificate-signature.table_digest")
    }
}

/// A final weight table's proof: signatures on one digest by more than τ of the previous table's
/// voting weight. Self-contained: an auditor holding the previous table can check it alone.
public struct Certificate: Sendable, Hashable {
    public let epoch: UInt64
    public let tableDigest: Bytes32
    /// Sorted by author, one per signer.
    public let signatures: [SignedStatement]

    /// Assembles a certificate (e.g. from an epoch export); `verify` decides whether it holds.
    public init(epoch: UInt64, tableDigest: Bytes32, signatures: [SignedStatement]) {
        self.epoch = epoch
        self.tableDigest = tableDigest
        self.signatures = signatures.sorted { $0.author < $1.author }
    }

    /// Checks every signature (network, epoch, type, digest, distinct signers) and that the
    /// signers' voting weight in `previous` exceeds τ of its total.
    public func verify(networkID: String, previous: WeightTable, threshold: Ratio) throws(ProtocolError) {
        guard previous.epoch + 1 == epoch else {
            throw .invalidStatement(type: "certificate-signature", reason: "certificate of epoch \(epoch) checked against table \(previous.epoch)")
        }
        var seen: Set<Bytes32> = []
        var support: UInt128 = 0
        for statement in signatures {
            guard statement.networkID == networkID, statement.epoch == epoch else {
                throw .invalidStatement(type: "certificate-signature", reason: "signature of network \(statement.networkID) epoch \(statement.epoch)")
            }
            let body = try BeaconRound.decode(statement, as: CertificateSignatureBody.self)
            guard body.tableDigest == tableDigest else {
                throw .invalidStatement(type: "certificate-signature", reason: "\(statement.author.hex) signed \(body.tableDigest.hex), not \(tableDigest.hex)")
            }
            guard seen.insert(statement.author.raw).inserted else {
                throw .invalidStatement(type: "certificate-signature", reason: "two signatures by \(statement.author.hex)")
            }
            support += UInt128(previous.votingWeight(of: statement.author.raw))
        }
        guard threshold.isExceeded(by: support, of: previous.totalVotingWeight) else {
            throw .invalidStatement(type: "certificate-signature", reason: "signers hold \(support) of \(previous.totalVotingWeight) voting weight, not more than \(threshold)")
        }
    }
}

/// Collects `certificate-signature`s of one epoch until one digest is backed by more than τ of
/// the previous table's voting weight. A signer's latest signature (highest seq) counts, so a node
/// that reconciles and recomputes can move its signature to the majority's digest.
public struct CertificateCollector: Sendable {
    public let networkID: String
    public let epoch: UInt64
    public let previous: WeightTable
    public let threshold: Ratio
    private var latest: [Bytes32: SignedStatement] = [:]
    private var digests: [Bytes32: Bytes32] = [:]

    public init(networkID: String, epoch: UInt64, previous: WeightTable, threshold: Ratio) {
        self.networkID = networkID
        self.epoch = epoch
        self.previous = previous
        self.threshold = threshold
    }

    /// Adds a verified signature; returns the certificate once a digest is final.
    public mutating func add(_ statement: SignedStatement) throws(ProtocolError) -> Certificate? {
        guard statement.networkID == networkID, statement.epoch == epoch else {
            throw .invalidStatement(type: "certificate-signature", reason: "for epoch \(statement.epoch), collecting epoch \(epoch)")
        }
        let body = try BeaconRound.decode(statement, as: CertificateSignatureBody.self)
        let signer = statement.author.raw
        guard previous.votingWeight(of: signer) > 0 else { return certificate }
        if let existing = latest[signer], (existing.seq, existing.id) >= (statement.seq, statement.id) { return certificate }
        latest[signer] = statement
        digests[signer] = body.tableDigest
        return certificate
    }

    /// Voting weight behind `digest`.
    public func support(for digest: Bytes32) -> UInt128 {
        digests.filter { $0.value == digest }.keys.reduce(0) { $0 + UInt128(previous.votingWeight(of: $1)) }
    }

    /// Digests signed so far with their support, largest first: what a node compares its own with.
    public var candidates: [(digest: Bytes32, support: UInt128)] {
        Set(digests.values).map { ($0, support(for: $0)) }.sorted { $0.support != $1.support ? $0.support > $1.support : $0.digest < $1.digest }
    }

    /// The final certificate, if any digest has enough support (at most one can, as τ ≥ 1/2).
    public var certificate: Certificate? {
        let total = previous.totalVotingWeight
        for (digest, support) in candidates where threshold.isExceeded(by: support, of: total) {
            let signers = digests.filter { $0.value == digest }.keys.sorted()
            return Certificate(epoch: epoch, tableDigest: digest, signatures: signers.compactMap { latest[$0] })
        }
        return nil
    }
}
