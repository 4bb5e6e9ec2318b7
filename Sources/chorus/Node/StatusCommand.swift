import ArgumentParser
import ChorusNode

/// `chorus status`: a running node's identity, addresses, peer count and connection counters.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running node's identity, listen addresses, peers and counters.",
        discussion: """
            EXAMPLES:
              chorus --data-dir /tmp/n1 status
              chorus --data-dir /tmp/n1 status --json | jq .peer_count
            """
    )

    @OptionGroup var node: NodeOptions
    @Flag(name: .long, help: "Print JSON: public_key, network_id, listen_addresses, peer_count, counters, ...")
    var json = false

    func run() async throws {
        let status = try await node.call(.status, as: NodeStatus.self)
        if json { return try Console.printJSON(status) }
        print("public key     \(status.publicKey)")
        print("network        \(status.networkID)")
        print("listening on   \(status.listenAddresses.joined(separator: ", "))")
        print("advertised     \(status.advertisedAddress ?? "(none)")")
        print("peers          \(status.peerCount) (\(status.inbound) inbound, \(status.outbound) outbound), \(status.connecting) connecting")
        print("known addrs    \(status.knownAddresses)")
        print("uptime         \(Int(status.uptimeSeconds)) s")
        let c = status.counters
        print("handshakes     \(c.handshakesCompleted) completed; dials \(c.dialsAttempted) (\(c.dialsFailed) failed); inbound accepted \(c.inboundAccepted)")
        print("messages       \(c.messagesReceived) received, \(c.messagesSent) sent, \(c.sendDrops) dropped")
        print("gossip         \(status.meshPeers) mesh peers; \(status.delivered) delivered, \(status.duplicates) duplicates, \(status.invalid) invalid")
        if let m = status.members { print("members        \(m.alive) alive, \(m.suspect) suspect, \(m.dead) dead") }
        print("sync           \(c.syncRounds) rounds, \(c.syncedStatements) statements fetched")
        if !c.closes.isEmpty {
            print("closes         " + c.closes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        // A peer on another network file: said first-hand, since no retry can fix it.
        for m in status.networkMismatches ?? [] {
            print("NETWORK FILE   differs from peer \(m.peer.prefix(16))'s (\(m.address)): parameters digest \(m.ownParametersDigest.prefix(16)), "
                  + "genesis \(m.ownGenesis) here; \(m.peerParametersDigest.prefix(16)), genesis \(m.peerGenesis) there "
                  + "(\(m.sessionsClosed) session(s) closed); run every node with the same --network-file")
        }
        if let poc = status.poc {
            let w = poc.worker
            print("worker         \(w.endpoint): \(w.healthy ? "healthy" : "UNHEALTHY")\(w.lastError.map { " (last error: \($0))" } ?? ""); models \(w.models.joined(separator: ", "))")
            for g in poc.generation {
                print("generation     epoch \(g.epoch) \(g.model): \(g.artifacts) artifacts, \(Int(g.noncesPerSecond)) nonces/s\(g.running ? ", running" : "")\(g.faked > 0 ? ", \(g.faked) faked" : "")")
            }
            print("this epoch     \(poc.commits) commits, \(poc.votes) votes signed")
            let p = poc.proofs
            print("proofs         \(p.requestsServed) requests served, \(p.requestsSent) sent (\(p.requestsUnanswered) unanswered), \(p.forgedRequests) forged, \(p.malformedMessages) malformed")
            if !poc.faults.isEmpty { print("FAULTS         \(poc.faults.joined(separator: ", ")) (devnet fault injection)") }
        }
    }
}
