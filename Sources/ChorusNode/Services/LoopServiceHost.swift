import ChorusCrypto
import ChorusLoop
import ChorusMesh

/// The product's `ServiceHost`: the node's sessions, sockets and loop timers.
///
/// Services call it synchronously from the node's own methods, on the loop thread; each call
/// re-enters the node with `assumeIsolated`, which checks that it runs on the loop.
final class LoopServiceHost: ServiceHost {
    /// The node owns its host (and its services), so the node outlives every call.
    unowned let node: Node

    init(node: Node) { self.node = node }

    func now() -> MonotonicTime { node.monotonicNow() }

    func send(_ payload: [UInt8], tag: UInt8, to peer: Ed25519.PublicKey, priority: SendPriority) -> Bool {
        node.assumeIsolated { $0.send(payload, tag: tag, to: peer, priority: priority) }
    }

    func sendDatagram(_ bytes: [UInt8], to destination: NetAddress) -> Bool {
        node.assumeIsolated { $0.sendDatagram(bytes, to: destination) }
    }

    func isConnected(_ peer: Ed25519.PublicKey) -> Bool {
        node.assumeIsolated { $0.manager.establishedPeers[peer] != nil }
    }

    func disconnect(_ peer: Ed25519.PublicKey, because reason: String) {
        node.assumeIsolated { $0.misbehaved(peer, because: reason) }
    }

    func makeTimer() -> any ServiceTimer { LoopTimer(on: node.loop) }

    func emit(_ event: NodeEvent) {
        // NodeEvent carries keys and addresses only; it is sent back to the node on the same thread.
        node.assumeIsolated { $0.route(event) }
    }
}

@available(*, unavailable, message: "LoopServiceHost is confined to its node's loop")
extension LoopServiceHost: Sendable {}
