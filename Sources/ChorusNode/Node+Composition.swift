import ChorusCrypto
import ChorusMesh

/// The composition: the one place that knows which part of the node reacts to what (README
/// "Architecture"). Services and the connection rules report `NodeEvent`s; this routes each one.
extension Node {
    func route(_ event: NodeEvent) {
        switch event {
        case let .peerConnected(peer, outbound, remote, advertised):
            // Loopback peers (devnets, the lab's relays) share one "IP" without being colocated:
            // no colocation penalty for them, as no per-group connection limit either.
            let address = remote.flatMap { $0.isLoopback ? nil : $0 }
            performGossip(router.onPeerConnected(peer, outbound: outbound, address: address, now: now()))
            reconcile(with: peer)
            if outbound { askForAddresses(peer) }
            membership?.peerConnected(peer, advertised: advertised)
        case let .peerDisconnected(peer):
            router.onPeerDisconnected(peer, now: now())
            awaitingAddresses.remove(peer)
            syncThrottle.forget(peer)
        case let .memberDead(member):
            // A confirmed death closes the member's session (the router's heartbeat refills its mesh
            // slots) and stops dialing it; suspicion alone never drops a link (Specs/membership.md §10).
            perform(manager.onMemberDead(member, now: now()))
        case let .memberAlive(member, address):
            perform(manager.onMemberAlive(member, address: address, now: now()))
        }
    }
}
