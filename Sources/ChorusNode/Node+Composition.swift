import ChorusCrypto
import ChorusMesh

/// The composition: the one place that knows which part of the node reacts to what (README
/// "Architecture"). Services and the connection rules report `NodeEvent`s; this routes each one.
extension Node {
    func route(_ event: NodeEvent) {
        switch event {
        case let .peerConnected(peer, outbound, remote, advertised):
            gossip.peerConnected(peer, outbound: outbound, remote: remote)
            sync?.peerConnected(peer)
            discovery.peerConnected(peer, outbound: outbound, remote: remote)
            membership?.peerConnected(peer, advertised: advertised)
        case let .peerDisconnected(peer):
            gossip.peerDisconnected(peer)
            discovery.peerDisconnected(peer)
            sync?.peerDisconnected(peer)
            inference?.peerDisconnected(peer)
        case let .memberDead(member, departed):
            // A confirmed death closes the member's session (the router's heartbeat refills its mesh
            // slots) and stops dialing it; suspicion alone never drops a link (Specs/membership.md §10).
            // A member that left closes its sessions itself, with its reason.
            perform(manager.onMemberDead(member, closingSession: !departed, now: now()))
        case let .memberAlive(member, address):
            perform(manager.onMemberAlive(member, address: address, now: now()))
        case let .statementAccepted(statement):
            routeToEpochs(statement)
        case let .statementsStored(committed):
            sync?.stored(committed)
        case let .dialCandidates(addresses):
            manager.addCandidates(addresses)
        case let .peerRecordForged(peer):
            gossip.penalize(peer)
        case let .gossipScores(scores):
            peerStore?.saveScores(scores)
        }
    }

    /// The signed peer records membership offers as members (Services/Membership), from discovery's book.
    func peerRecordsForMembership() -> [PeerRecord] { discovery.peerRecords.all }
}
