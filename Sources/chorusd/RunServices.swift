import Logging
import ServiceLifecycle
import UnixSignals

/// One part of `chorusd run` (the storage writer, the node, its PoC jobs on the worker, the API,
/// the admin listener), already started, as a swift-service-lifecycle service: it runs until the
/// group shuts down gracefully, then stops its part. The group stops its services one at a time
/// in the reverse of their order, so each part stops before what it relies on.
///
/// Parts are started by `RunCommand` in order, each ready before the next, rather than by the
/// group: `ServiceGroup` starts every service at once and has no notion of ready (the API must not
/// accept requests before the node it routes to is listening, and a bind failure must stop the
/// parts already started and end the run with the reason).
struct StartedPart: Service, CustomStringConvertible {
    let description: String
    let logger: Logger
    let stop: @Sendable () async -> Void

    func run() async throws {
        // Returns on graceful shutdown; throws on cancellation, when stopping is just as due.
        try? await gracefulShutdown()
        await stop()
        logger.info("service stopped", metadata: ["service": "\(description)"])
    }
}

/// Signals of `chorusd run`: SIGHUP reloads the configuration (`reload`), SIGINT or SIGTERM ends
/// this service, which shuts the group down gracefully (this service is configured with
/// `successTerminationBehavior: .gracefullyShutdownGroup`). One trap for all three, so the log
/// names the signal that stopped the node.
struct SignalService: Service, CustomStringConvertible {
    /// Trapped before the node says it is running (`trap()`), so that a signal sent as soon as the
    /// log says so is never lost to the default action (SIGHUP's terminates).
    let signals: UnixSignalsSequence
    let logger: Logger
    let reload: @Sendable () async -> Void
    var description: String { "signals" }

    static func trap() async -> UnixSignalsSequence {
        await UnixSignalsSequence(trapping: .sighup, .sigint, .sigterm)
    }

    func run() async throws {
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sighup {
                await reload()
                continue
            }
            logger.info("stopping", metadata: ["signal": "\(signal)"])
            return
        }
    }
}
