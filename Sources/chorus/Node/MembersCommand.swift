import ArgumentParser
import ChorusNode

/// `chorus members`: what the node's failure detector (SWIM) believes about every member.
struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List a running node's SWIM members: key, address, alive/suspect/dead, incarnation.",
        discussion: """
            Members are learned from sessions, peer records and SWIM's own dissemination; a member that stops answering probes turns suspect, then dead (Specs/membership.md).

            EXAMPLES:
              chorus --data-dir /tmp/n1 members
              chorus --data-dir /tmp/n1 members --json | jq '.members[] | select(.state == "dead")'
            """
    )

    @OptionGroup var node: NodeOptions
    @Flag(name: .long, help: "Print JSON: public_key, incarnation, local_health, counts, members[], datagrams.")
    var json = false

    func run() async throws {
        let result = try await node.call(.members, as: MembersResult.self)
        if json { return try Console.printJSON(result) }
        let c = result.counts
        print("\(c.alive) alive, \(c.suspect) suspect, \(c.dead) dead (not counting this node; incarnation \(result.incarnation), health \(result.localHealth))")
        for m in result.members {
            let state = m.state.padding(toLength: 8, withPad: " ", startingAt: 0)
            print("\(m.publicKey)  \(state) inc \(m.incarnation)  \(m.address ?? "-")  for \(Int(m.sinceSeconds)) s")
        }
    }
}
