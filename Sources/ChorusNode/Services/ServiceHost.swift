import ChorusCrypto
import ChorusLoop
import ChorusMesh

/// What a protocol service may ask of the node that runs it: the time, a timer, a session to send
/// on, a datagram socket, and the composition to tell about what happened (`NodeEvent`).
///
/// A service never touches a socket, the loop or the wall clock itself. The product's host is the
/// node on its libuv loop (`LoopServiceHost`); a test host runs the same service under a manual
/// clock, so what a test sees is the policy the daemon runs (README "Architecture").
///
/// Every call happens on the host's executor (the node's loop thread): services are not Sendable.
protocol ServiceHost: AnyObject {
    /// Monotonic time since the node started: the clock of every pure state machine.
    func now() -> MonotonicTime
    /// Queues `payload` under protocol `tag` on the session with `peer`; false when there is none
    /// or its queue for `priority` is full (the drop is counted).
    @discardableResult
    func send(_ payload: [UInt8], tag: UInt8, to peer: Ed25519.PublicKey, priority: SendPriority) -> Bool
    /// Hands a datagram to the socket of `destination`'s family; false when none can take it.
    func sendDatagram(_ bytes: [UInt8], to destination: NetAddress) -> Bool
    /// Whether an authenticated session with `peer` is up.
    func isConnected(_ peer: Ed25519.PublicKey) -> Bool
    /// Closes the session with `peer` and bans it for a while (its bytes showed abuse).
    func disconnect(_ peer: Ed25519.PublicKey, because reason: String)
    /// Runs `work` on a verification thread (`VerificationPool`), then `then` with its result back on
    /// the host's executor. `cost` counts statements against the pool's bounds, `peer`'s share
    /// included; false, and nothing runs, when the pool refuses it. A peer whose share passes half
    /// stops being read until its work drains (back-pressure through TCP flow control).
    func offload<Result: Sendable>(cost: Int, peer: Ed25519.PublicKey?, _ work: @escaping @Sendable () -> Result,
                                   then: @escaping (Result) -> Void) -> Bool
    /// A timer on the host's executor.
    func makeTimer() -> any ServiceTimer
    /// Tells the composition (`Node+Composition.swift`) that something happened.
    func emit(_ event: NodeEvent)
}

/// A one-shot or repeating timer whose handler runs on the host's executor.
protocol ServiceTimer: AnyObject {
    func schedule(after delay: Duration, repeatingEvery interval: Duration?, _ handler: @escaping () -> Void)
    func cancel()
    func close()
}

extension LoopTimer: ServiceTimer {}
