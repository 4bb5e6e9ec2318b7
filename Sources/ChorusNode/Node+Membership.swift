import ChorusCrypto
import ChorusLoop
import ChorusMesh
import ChorusWire
import Foundation
import Logging

/// Failure detection on the node: the pure SWIM machine (`Membership`) driven by one loop timer,
/// its messages carried as signed UDP datagrams (`SWIMDatagram`) on the listen addresses' ports.
/// Members are learned from sessions (the handshake's listen address), from signed peer records,
/// and from the machine's own dissemination.
extension Node {
    /// How often peer records are offered to the machine as members (each record once per sequence).
    static let membershipIntroductionInterval: Duration = .seconds(2)

    func startMembership() {
        guard swim == nil else { return }
        var sockets: [UDPSocket] = []
        for listener in listeners {
            do {
                let socket = try UDPSocket(bindingTo: listener.localAddress, on: loop,
                                           maxDatagramSize: SWIMDatagram.defaultMaxSize) { [weak self] bytes, source in
                    self?.assumeIsolated { $0.receivedDatagram(bytes, from: source) }
                }
                sockets.append(socket)
            } catch {
                logger.error("membership: cannot bind UDP; failure detection is off on this address",
                             metadata: ["address": "\(listener.localAddress)", "error": "\(error)"])
            }
        }
        guard !sockets.isEmpty else { return }
        let address = advertisedAddress.flatMap { try? NetAddress(parsing: $0) }
        let machine = Membership(localID: publicKey, address: address, settings: configuration.membership,
                                 seed: discoveryRNG.next())
        let shell = MembershipShell(machine: machine, sockets: sockets, timer: LoopTimer(on: loop),
                                    housekeeping: LoopTimer(on: loop), counter: GossipJournal.unixNanos(),
                                    maxReplayEntries: configuration.membershipSenders)
        swim = shell
        shell.housekeeping.schedule(after: .zero, repeatingEvery: Self.membershipIntroductionInterval) { [weak self] in
            self?.assumeIsolated { $0.introduceRecordedPeers() }
        }
        performMembership(shell.machine.start(now: now()))
        logger.info("membership running", metadata: ["udp": "\(sockets.map { "\($0.localAddress)" })"])
    }

    /// Announces the departure (members mark this node dead at once instead of suspecting it for
    /// seconds; the datagrams leave synchronously), then closes the sockets and timers.
    func stopMembership() {
        guard let swim else { return }
        performMembership(swim.machine.leave(now: now()))
        swim.close()
        self.swim = nil
    }

    /// A session came up: the peer's listen address is where its UDP socket is.
    func membershipPeerConnected(_ peer: Ed25519.PublicKey, advertised: NetAddress?) {
        guard let swim, peer != publicKey else { return }
        if let advertised { swim.addresses[peer] = advertised }
        guard advertised != nil || swim.machine.member(peer)?.address != nil || swim.addresses[peer] != nil else { return }
        performMembership(swim.machine.onPeerConnected(peer, address: advertised, now: now()))
    }

    /// Offers members the machine does not know yet from signed peer records (their first address).
    private func introduceRecordedPeers() {
        guard let swim else { return }
        for record in peerRecords.all where record.publicKey != publicKey && swim.introduced[record.publicKey] != record.seq {
            guard let address = record.addresses.first else { continue }
            swim.introduced[record.publicKey] = record.seq
            if swim.machine.member(record.publicKey) == nil || swim.addresses[record.publicKey] == nil {
                swim.addresses[record.publicKey] = address
            }
            if swim.machine.member(record.publicKey) == nil {
                performMembership(swim.machine.onPeerConnected(record.publicKey, address: address, now: now()))
            }
        }
    }

    func performMembership(_ directives: [Membership.Directive]) {
        guard let swim else { return }
        for directive in directives {
            switch directive {
            case let .send(to: peer, message):
                sendMembership(message, to: peer, swim)
            case let .memberStatusChanged(id, old, new):
                let metadata: Logger.Metadata = ["member": "\(id.hex.prefix(16))", "from": "\(old.map { "\($0)" } ?? "new")",
                                                 "to": "\(new)"]
                if new == .alive && old == nil {
                    logger.debug("member joined", metadata: metadata)
                } else {
                    logger.info("member status changed", metadata: metadata)
                }
            case let .scheduleTick(after: delay):
                swim.timer.schedule(after: delay) { [weak self] in
                    self?.assumeIsolated { node in
                        guard let swim = node.swim else { return }
                        node.performMembership(swim.machine.onTick(now: node.now()))
                    }
                }
            }
        }
    }

    private func sendMembership(_ message: SWIMMessage, to peer: Ed25519.PublicKey, _ swim: MembershipShell) {
        guard let address = swim.machine.address(of: peer) ?? swim.addresses[peer],
              let destination = try? SocketAddress(parsing: address.description),
              let socket = swim.sockets.first(where: { $0.localAddress.family == destination.family }) else {
            swim.counters.noAddress += 1
            return
        }
        var parts = SWIMDatagram.fitting(message)
        // A request's answer is at most one datagram unless the requester holds an authenticated
        // session: a 115-byte sync request from a throwaway key with a forged source address once
        // drew 126 KB (Specs/membership.md §9). Our own requests and probes are not cut.
        if case .sync(_, isReply: true) = message.kind, parts.count > 1, manager.establishedPeers[peer] == nil {
            swim.counters.repliesTruncated += 1
            parts = Array(parts.prefix(1))
        }
        for part in parts {
            swim.counter += 1
            let bytes = SWIMDatagram(sender: publicKey, counter: swim.counter, message: part)
                .signed(with: signingKey, networkID: configuration.networkID)
            if socket.send(bytes, to: destination) {
                swim.counters.datagramsSent += 1
            } else {
                swim.counters.sendFailures += 1
            }
        }
    }

    /// Every datagram is verified before the machine sees it; anything wrong is counted and dropped.
    private func receivedDatagram(_ bytes: [UInt8], from source: SocketAddress) {
        guard let swim else { return }
        swim.counters.datagramsReceived += 1
        let datagram: SWIMDatagram
        do {
            datagram = try SWIMDatagram(verifying: bytes, networkID: configuration.networkID)
        } catch {
            switch error {
            case .badSignature: swim.counters.badSignature += 1
            case .lengthOverLimit(field: "swim.datagram", _, _): swim.counters.oversize += 1
            default: swim.counters.malformed += 1
            }
            return
        }
        guard datagram.sender != publicKey else {
            swim.counters.fromSelf += 1
            return
        }
        guard swim.trackSender(datagram.sender, isMember: { swim.machine.member($0) != nil }) else {
            swim.counters.replayTableFull += 1
            return
        }
        guard swim.replay[datagram.sender, default: ReplayWindow()].accept(datagram.counter) else {
            swim.counters.replayed += 1
            return
        }
        if swim.addresses[datagram.sender] == nil, let address = try? NetAddress(parsing: source.description) {
            swim.addresses[datagram.sender] = address
        }
        performMembership(swim.machine.onMessage(datagram.message, from: datagram.sender, now: now()))
    }

    // MARK: - Introspection

    /// Members relayed by third parties that have not answered yet (Specs/membership.md §1, admission).
    public func swimCandidates() -> Int { swim?.machine.candidateCount ?? 0 }

    /// `members`: every member this node knows, with counts (nil when membership is not running).
    public func members() -> MembersResult? {
        guard let swim else { return nil }
        let list = swim.machine.allMembers.map { m in
            MemberInfo(publicKey: m.id.hex, address: (m.address ?? swim.addresses[m.id])?.description,
                       state: "\(m.status)", incarnation: m.incarnation,
                       sinceSeconds: Self.seconds(now().since(m.statusSince)))
        }
        var datagrams = swim.counters
        // Datagrams over the size limit are cut by the kernel and dropped by the socket before decoding.
        datagrams.oversize += swim.sockets.reduce(0) { $0 + $1.truncatedDrops }
        return MembersResult(publicKey: publicKey.hex, incarnation: swim.machine.incarnation,
                             localHealth: swim.machine.localHealth, counts: membershipCounts() ?? MemberCounts(),
                             members: list, datagrams: datagrams, probes: swim.machine.counters.probes,
                             probesFailed: swim.machine.counters.probesFailed,
                             suspicionsRaised: swim.machine.counters.suspicionsRaised,
                             deathsDeclared: swim.machine.counters.deathsDeclared,
                             refutations: swim.machine.counters.refutations,
                             implausibleIncarnations: swim.machine.counters.implausibleIncarnations,
                             candidates: swim.machine.candidateCount,
                             candidatesAdmitted: swim.machine.counters.candidatesAdmitted,
                             candidatesRefused: swim.machine.counters.candidatesRefused)
    }

    /// Alive, suspect and dead members (this node not counted).
    public func membershipCounts() -> MemberCounts? {
        guard let swim else { return nil }
        var counts = MemberCounts()
        for m in swim.machine.allMembers {
            switch m.status {
            case .alive: counts.alive += 1
            case .suspect: counts.suspect += 1
            case .dead: counts.dead += 1
            }
        }
        return counts
    }
}
