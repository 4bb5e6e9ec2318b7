import ChorusCrypto
import Testing
@testable import ChorusMesh

/// The handshake's network parameters claim (identity proof extension 2) and what the connection
/// manager does with a peer on another network file: close, and never dial that address again.
@Suite struct NetworkMismatchTests {
    static func key(_ n: UInt8) -> Ed25519.SigningKey {
        try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: n, count: 32)))
    }

    @Test func theClaimRoundTripsThroughAVerifiedProof() throws {
        let claim = NetworkParametersClaim(parametersDigest: Blake2b.hash256(Array("params".utf8)), genesisUnixMs: 1_767_225_600_000)
        #expect(claim.encoded.count == 40)
        // Big-endian milliseconds after the digest.
        #expect(Array(claim.encoded.suffix(8)) == [0x00, 0x00, 0x01, 0x9B, 0x76, 0xDA, 0xA8, 0x00])
        let noiseStatic = Blake2b.hash256(Array("static".utf8))
        let proof = IdentityProof.make(identity: Self.key(1), noiseStatic: noiseStatic,
                                       extensions: [(IdentityProof.listenAddressExtension, Array("127.0.0.1:7701".utf8)), claim.proofExtension])
        let verified = try IdentityProof.verify(proof.encoded, noiseStatic: noiseStatic)
        #expect(verified.networkParameters == claim)
        #expect(verified.listenAddress == "127.0.0.1:7701")
        // Absent, or of another length: no claim (a relay sends none; a malformed one is ignored).
        #expect(IdentityProof.make(identity: Self.key(1), noiseStatic: noiseStatic).networkParameters == nil)
        let short = IdentityProof.make(identity: Self.key(1), noiseStatic: noiseStatic, extensions: [(2, [1, 2, 3])])
        #expect(try IdentityProof.verify(short.encoded, noiseStatic: noiseStatic).networkParameters == nil)
        #expect(NetworkParametersClaim(encoded: Array(repeating: 0, count: 41)) == nil)
    }

    @Test func anIncompatiblePeersAddressIsNeverDialedAgain() throws {
        var m = ConnectionManager(localIdentity: Self.key(1).publicKey, seed: 3)
        let stale = try NetAddress(parsing: "10.0.0.2:7701"), other = try NetAddress(parsing: "10.0.0.3:7701")
        m.addCandidates([(stale, nil)])
        let dialed = m.onTick(now: .zero)
        guard case let .dial(id, address)? = dialed.first else {
            Issue.record("no dial: \(dialed)")
            return
        }
        #expect(address == stale)
        _ = m.onDialConnected(id, now: .zero)
        let closed = m.onIncompatible(id, reason: .networkMismatch("digest a here, b there"), now: .zero)
        #expect(closed.contains(.close(id, .networkMismatch("digest a here, b there"))))
        #expect(m.connections.isEmpty && m.knownAddresses.isEmpty)
        // Learned again (peer exchange, a seed): still not dialed, long after any backoff.
        m.addCandidates([(stale, nil), (other, nil)])
        let later = m.onTick(now: .seconds(3600))
        #expect(later == [.dial(id + 1, other)])
        #expect(CloseReason.networkMismatch("x").code == "network_mismatch" && !CloseReason.networkMismatch("x").isMisbehaviour)
    }
}
