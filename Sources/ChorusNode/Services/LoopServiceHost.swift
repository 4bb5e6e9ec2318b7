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
    let pool: VerificationPool
    /// What to run on the loop when each offloaded job is done (type-erased; `offload` knows the type).
    private var waiting: [UInt64: (any Sendable) -> Void] = [:]
    private var lastJob: UInt64 = 0
    /// Peers not read from until their share of the pool drains below a quarter.
    private var paused: Set<Ed25519.PublicKey> = []

    init(node: Node, pool: VerificationPool) {
        self.node = node
        self.pool = pool
    }

    /// Stops the verification threads; jobs still queued never report back.
    func shutdown() {
        pool.shutdown()
        waiting = [:]
    }

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

    func offload<Result: Sendable>(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> Result,
                                   then: @escaping (Result) -> Void) -> Bool {
        lastJob += 1
        let id = lastJob
        let node = self.node
        let loop = node.loop
        waiting[id] = { then($0 as! Result) }  // only `finish(id, _:)` below calls it, with a `Result`
        let queued = pool.submit(cost: cost, peer: peer) {
            let result = work()
            // Posted once the job's cost has left the queue, so `finish` sees the drained share.
            return { _ = loop.execute { node.assumeIsolated { $0.serviceHost.finish(id, result, peer: peer) } } }
        }
        guard queued else {
            waiting[id] = nil
            return false
        }
        if let peer, !paused.contains(peer), pool.queuedCost(of: peer) * 2 >= pool.maxQueuedPerPeer {
            paused.insert(peer)
            node.assumeIsolated { $0.setReading(from: peer, false) }
        }
        return true
    }

    private func finish(_ id: UInt64, _ result: any Sendable, peer: Ed25519.PublicKey?) {
        waiting.removeValue(forKey: id)?(result)
        if let peer, paused.contains(peer), pool.queuedCost(of: peer) * 4 < pool.maxQueuedPerPeer {
            paused.remove(peer)
            node.assumeIsolated { $0.setReading(from: peer, true) }
        }
    }

    func makeTimer() -> any ServiceTimer { LoopTimer(on: node.loop) }

    func emit(_ event: NodeEvent) {
        // NodeEvent carries keys and addresses only; it is sent back to the node on the same thread.
        node.assumeIsolated { $0.route(event) }
    }
}

@available(*, unavailable, message: "LoopServiceHost is confined to its node's loop")
extension LoopServiceHost: Sendable {}
