import ChorusNode
import Logging
import ServiceLifecycle

/// Logs a node's catch-up on missed epochs (`CatchUpProgress`) while `chorusd run` follows a
/// network: every 5 s it reads the current and last final epoch; while behind, a line ("N of M"
/// epochs made final) whenever an epoch became final or 30 s passed, and one when in step again.
/// Silent while the node keeps up.
struct CatchUpLog: Service, CustomStringConvertible {
    let node: Node
    let logger: Logger
    var description: String { "epoch catch-up log" }

    func run() async throws {
        var progress = CatchUpProgress()
        let clock = ContinuousClock(), origin = clock.now
        while true {
            if let status = await node.epochStatus(nil) {
                let elapsed = origin.duration(to: clock.now)
                let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                switch progress.observe(current: status.epoch, lastFinal: status.lastFinalEpoch, now: now) {
                case let .catchingUp(done, total, lastFinal, current)?:
                    // Without peers there is nobody to catch up from: say so rather than promise progress.
                    let peers = await node.connectedPeers.count
                    logger.info(peers == 0 ? "behind the network's epochs, with no peer to catch up from" : "catching up missed epochs",
                                metadata: ["final": "\(done) of \(total)", "last_final": "\(lastFinal.map { "\($0)" } ?? "none")",
                                           "current": "\(current)", "peers": "\(peers)"])
                case let .caughtUp(epochs, seconds)?:
                    logger.info("caught up on missed epochs", metadata: ["epochs": "\(epochs)", "seconds": "\(Int(seconds.rounded()))"])
                case nil:
                    break
                }
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) } } catch { return }
        }
    }
}
