import ChorusCrypto
import ChorusMesh
public import ChorusProtocol
import Foundation
import Logging

/// A peer found running another network file: same network id (the handshake's prologue), other
/// parameters. Shown by `chorus status` (`network_mismatches`).
public struct NetworkMismatchInfo: Codable, Sendable, Equatable {
    /// The peer's public key (hex) and the address its connection came from or went to.
    public var peer: String
    public var address: String
    public var peerParametersDigest: String
    /// Genesis times as ISO 8601 UTC.
    public var peerGenesis: String
    public var ownParametersDigest: String
    public var ownGenesis: String
    /// Sessions with this peer closed for the mismatch (a peer that dials in is refused each time).
    public var sessionsClosed: Int

    enum CodingKeys: String, CodingKey {
        case peer, address
        case peerParametersDigest = "peer_parameters_digest"
        case peerGenesis = "peer_genesis"
        case ownParametersDigest = "own_parameters_digest"
        case ownGenesis = "own_genesis"
        case sessionsClosed = "sessions_closed"
    }
}

/// Nodes that follow epochs tell each other their network file's digest and genesis time in the
/// handshake (`NetworkParametersClaim`, Specs/transport.md §2). A peer whose file differs could
/// never agree on an epoch with this node: before, both kept the session and only reported, epoch
/// after epoch, that their weight tables differed. Now the session is closed with code 7, the
/// address is not dialed again, the log says which file differs and how, and `chorus status`
/// lists such peers.
extension Node {
    /// Peers listed at most; later ones are logged and counted only.
    static let maxNetworkMismatches = 64

    /// The identity proof's extensions: the listen address, and the network claim when epochs run.
    var handshakeExtensions: [(type: UInt8, value: [UInt8])] {
        var extensions = advertisedAddress.map { [(type: IdentityProof.listenAddressExtension, value: Array($0.utf8))] } ?? []
        if let claim = networkClaim { extensions.append(claim.proofExtension) }
        return extensions
    }

    /// Checks the claim of a peer whose handshake just completed; false when its network file
    /// differs, after closing the connection (the caller must not go on with it).
    func networkMatches(_ proof: IdentityProof, on link: PeerLink) -> Bool {
        guard let own = networkClaim, let theirs = proof.networkParameters, theirs != own else { return true }
        let peer = proof.identity
        let address = link.connection.peerAddress.map { "\($0)" } ?? "?"
        let ownDigest = own.parametersDigest.hex, theirDigest = theirs.parametersDigest.hex
        if var known = networkMismatches[peer] {
            known.sessionsClosed += 1
            networkMismatches[peer] = known
        } else {
            if networkMismatches.count < Self.maxNetworkMismatches {
                networkMismatches[peer] = NetworkMismatchInfo(
                    peer: peer.hex, address: address, peerParametersDigest: theirDigest, peerGenesis: Self.isoTime(theirs.genesisUnixMs),
                    ownParametersDigest: ownDigest, ownGenesis: Self.isoTime(own.genesisUnixMs), sessionsClosed: 1)
            }
            logger.error("""
                this node's network file differs from peer \(peer.hex.prefix(16))'s (\(address)): here parameters digest \
                \(ownDigest.prefix(16)) with genesis \(Self.isoTime(own.genesisUnixMs)), there \(theirDigest.prefix(16)) with \
                genesis \(Self.isoTime(theirs.genesisUnixMs)); nodes on different network files never agree on an epoch, so the \
                session is closed and this address is not dialed again. Run every node with the same --network-file (a \
                devnet's nodes use the one it wrote, DIR/network.toml)
                """)
        }
        let reason = "parameters digest \(ownDigest.prefix(16)) (genesis \(Self.isoTime(own.genesisUnixMs))) here, "
            + "\(theirDigest.prefix(16)) (genesis \(Self.isoTime(theirs.genesisUnixMs))) at the peer"
        perform(manager.onIncompatible(link.id, reason: .networkMismatch(reason), now: now()))
        return false
    }

    /// Sets the claim before `start` (chorusd, which attaches epochs only after its first dials),
    /// so that no handshake goes out without it: two nodes started at once with different files
    /// would otherwise both connect before either could tell.
    public func announceNetwork(_ parameters: NetworkParameters) {
        networkClaim = NetworkParametersClaim(parametersDigest: parameters.digest, genesisUnixMs: parameters.genesisUnixMs)
    }

    /// Epochs were attached: from now on handshakes carry this node's claim (`networkClaim`; nil
    /// on a node that follows no epochs, which checks nothing). Sessions that came up before
    /// (chorusd dials its seeds first) have their peers' claims checked now.
    func networkClaimAttached() {
        networkClaim = epochs.map {
            NetworkParametersClaim(parametersDigest: $0.engine.parameters.digest, genesisUnixMs: $0.engine.parameters.genesisUnixMs)
        }
        for link in links.values.sorted(by: { $0.id < $1.id }) where link.isEstablished && !link.isTemporary {
            if let proof = link.remote { _ = networkMatches(proof, on: link) }
        }
    }

    /// The mismatches found so far, by peer key; nil when there are none.
    var networkMismatchList: [NetworkMismatchInfo]? {
        networkMismatches.isEmpty ? nil : networkMismatches.values.sorted { $0.peer < $1.peer }
    }

    static func isoTime(_ unixMs: Int64) -> String {
        Date(timeIntervalSince1970: Double(unixMs) / 1000).formatted(.iso8601)
    }
}
