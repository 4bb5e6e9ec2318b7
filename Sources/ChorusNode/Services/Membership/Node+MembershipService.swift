import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusWire
import Logging

/// Where the membership service (`Services/Membership/MembershipService.swift`) meets the node: UDP
/// sockets bound on the listen addresses' ports feed it datagrams; its verdicts reach the connection
/// rules through the composition (`Node+Composition.swift`).
extension Node {
    func startMembership() {
        guard membership == nil else { return }
        for listener in listeners {
            do {
                let socket = try UDPSocket(bindingTo: listener.localAddress, on: loop,
                                           maxDatagramSize: SWIMDatagram.defaultMaxSize) { [weak self] bytes, source in
                    self?.assumeIsolated { node in
                        node.membership?.received(bytes, from: try? NetAddress(parsing: source.description))
                    }
                }
                udpSockets.append(socket)
            } catch {
                logger.error("membership: cannot bind UDP; failure detection is off on this address",
                             metadata: ["address": "\(listener.localAddress)", "error": "\(error)"])
            }
        }
        guard !udpSockets.isEmpty else { return }
        membership = MembershipService(
            host: serviceHost, signingKey: signingKey, networkID: configuration.networkID,
            address: advertisedAddress.flatMap { try? NetAddress(parsing: $0) }, settings: configuration.membership,
            maxSenders: configuration.membershipSenders, seed: discovery.drawSeed(), counter: GossipJournal.unixNanos(),
            logger: logger, records: { [unowned self] in assumeIsolated { $0.peerRecordsForMembership() } })
        logger.info("membership running", metadata: ["udp": "\(udpSockets.map { "\($0.localAddress)" })"])
    }

    /// Announces the departure unless `announce` is false (the datagrams leave synchronously), then
    /// closes the sockets.
    func stopMembership(announce: Bool = true) {
        membership?.stop(announce: announce)
        membership = nil
        udpSockets.forEach { $0.close() }
        udpSockets = []
    }

    /// Sends through the socket of `destination`'s family.
    func sendDatagram(_ bytes: [UInt8], to destination: NetAddress) -> Bool {
        guard let address = try? SocketAddress(parsing: destination.description),
              let socket = udpSockets.first(where: { $0.localAddress.family == address.family }) else { return false }
        return socket.send(bytes, to: address)
    }

    // MARK: - Introspection

    /// Members relayed by third parties that have not answered yet (Specs/membership.md §1, admission).
    public func swimCandidates() -> Int { membership?.candidateCount ?? 0 }

    /// `members`: every member this node knows, with counts (nil when membership is not running).
    public func members() -> MembersResult? {
        membership?.report(truncatedDrops: udpSockets.reduce(0) { $0 + $1.truncatedDrops })
    }

    /// Alive, suspect and dead members (this node not counted).
    public func membershipCounts() -> MemberCounts? { membership?.counts }
}
