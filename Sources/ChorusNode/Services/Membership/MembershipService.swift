import ChorusCrypto
import ChorusMesh
import ChorusWire
import Logging

/// SWIM failure detection (Specs/membership.md): the pure machine (`Membership`) driven by one
/// timer, its messages carried as signed datagrams (`SWIMDatagram`) through the host's UDP sockets.
///
/// Members are learned from sessions (the handshake's listen address), from signed peer records
/// (`introduce`), and from the machine's own dissemination. What the machine decides about a member
/// reaches the rest of the node as events: `memberDead` when a member is confirmed dead and
/// `memberAlive` when a dead member comes back (the composition closes and re-dials its session).
/// Suspicion is not an event: it alone never drops a link.
final class MembershipService {
    /// How often peer records are offered to the machine as members (each record once per sequence).
    static let introductionInterval: Duration = .seconds(2)

    private unowned let host: any ServiceHost
    private let signingKey: Ed25519.SigningKey
    private let networkID: String
    private let logger: Logger
    private(set) var machine: Membership
    private let timer: any ServiceTimer
    private let housekeeping: any ServiceTimer
    /// Where members can be reached when the machine does not know their address yet: their
    /// handshake's listen address, their peer record, or the source of their last valid datagram.
    private var addresses: [Ed25519.PublicKey: NetAddress] = [:]
    /// Peers already offered to the machine from peer records (each once per record sequence).
    private var introduced: [Ed25519.PublicKey: UInt64] = [:]
    private var senders: SenderTable
    /// The counter of the last datagram sent; starts at the Unix time in nanoseconds so that it keeps
    /// rising across restarts (receivers drop counters they have seen or that fall behind their window).
    private var counter: UInt64
    private(set) var counters = MembershipCounters()

    /// - Parameters:
    ///   - address: this node's advertised address (what members probe), if it has one.
    ///   - counter: the first datagram counter (Unix nanoseconds in the product).
    ///   - records: the signed peer records known, offered as members every `introductionInterval`.
    init(host: any ServiceHost, signingKey: Ed25519.SigningKey, networkID: String, address: NetAddress?,
         settings: MembershipSettings, maxSenders: Int, seed: UInt64, counter: UInt64, logger: Logger,
         records: @escaping () -> [PeerRecord]) {
        self.host = host
        self.signingKey = signingKey
        self.networkID = networkID
        self.logger = logger
        self.machine = Membership(localID: signingKey.publicKey, address: address, settings: settings, seed: seed)
        self.timer = host.makeTimer()
        self.housekeeping = host.makeTimer()
        self.senders = SenderTable(capacity: maxSenders)
        self.counter = counter
        housekeeping.schedule(after: .zero, repeatingEvery: Self.introductionInterval) { [weak self] in
            self?.introduce(records())
        }
        perform(machine.start(now: host.now()))
    }

    /// Announces the departure unless `announce` is false (members then mark this node dead at once
    /// instead of suspecting it for seconds), then closes the timers. The host closes its sockets after.
    func stop(announce: Bool = true) {
        if announce { perform(machine.leave(now: host.now())) }
        timer.close()
        housekeeping.close()
    }

    // MARK: - Inputs

    /// A session came up: the peer's listen address is where its UDP socket is.
    func peerConnected(_ peer: Ed25519.PublicKey, advertised: NetAddress?) {
        guard peer != signingKey.publicKey else { return }
        if let advertised { addresses[peer] = advertised }
        guard advertised != nil || machine.member(peer)?.address != nil || addresses[peer] != nil else { return }
        perform(machine.onPeerConnected(peer, address: advertised, now: host.now()))
    }

    /// Offers members the machine does not know yet from signed peer records (their first address).
    func introduce(_ records: [PeerRecord]) {
        for record in records where record.publicKey != signingKey.publicKey && introduced[record.publicKey] != record.seq {
            guard let address = record.addresses.first else { continue }
            introduced[record.publicKey] = record.seq
            if machine.member(record.publicKey) == nil || addresses[record.publicKey] == nil {
                addresses[record.publicKey] = address
            }
            if machine.member(record.publicKey) == nil {
                perform(machine.onPeerConnected(record.publicKey, address: address, now: host.now()))
            }
        }
    }

    /// Every datagram is verified before the machine sees it; anything wrong is counted and dropped.
    func received(_ bytes: [UInt8], from source: NetAddress?) {
        counters.datagramsReceived += 1
        let datagram: SWIMDatagram
        do {
            datagram = try SWIMDatagram(verifying: bytes, networkID: networkID)
        } catch {
            switch error {
            case .badSignature: counters.badSignature += 1
            case .lengthOverLimit(field: "swim.datagram", _, _): counters.oversize += 1
            default: counters.malformed += 1
            }
            return
        }
        guard datagram.sender != signingKey.publicKey else {
            counters.fromSelf += 1
            return
        }
        let (tracked, evicted) = senders.track(datagram.sender) { machine.member($0) != nil }
        if let evicted {
            counters.sendersEvicted += 1
            addresses[evicted] = nil
        }
        guard tracked else {
            counters.replayTableFull += 1
            return
        }
        guard senders.accept(datagram.counter, from: datagram.sender) else {
            counters.replayed += 1
            return
        }
        if addresses[datagram.sender] == nil, let source { addresses[datagram.sender] = source }
        perform(machine.onMessage(datagram.message, from: datagram.sender, now: host.now()))
    }

    // MARK: - Directives

    private func perform(_ directives: [Membership.Directive]) {
        for directive in directives {
            switch directive {
            case let .send(to: peer, message):
                send(message, to: peer)
            case let .memberStatusChanged(id, old, new):
                let metadata: Logger.Metadata = ["member": "\(id.hex.prefix(16))", "from": "\(old.map { "\($0)" } ?? "new")",
                                                 "to": "\(new)"]
                if new == .alive && old == nil {
                    logger.debug("member joined", metadata: metadata)
                    // A member learned through SWIM is a peer the connection rules may dial while
                    // outbound slots are free: peer exchange alone can miss one that started
                    // listening after its neighbours' exchanges (two nodes that both dialed only the
                    // seed and its early peers never met, and a validator then had no session to
                    // fetch the other's proofs from).
                    if let address = machine.address(of: id) ?? addresses[id] { host.emit(.dialCandidates([(address, id)])) }
                } else {
                    logger.info("member status changed", metadata: metadata)
                }
                if new == .dead {
                    host.emit(.memberDead(id, departed: machine.member(id)?.departed ?? false))
                } else if new == .alive, old == .dead {
                    host.emit(.memberAlive(id, address: machine.address(of: id) ?? addresses[id]))
                }
            case let .scheduleTick(after: delay):
                timer.schedule(after: delay, repeatingEvery: nil) { [weak self] in
                    guard let self else { return }
                    perform(machine.onTick(now: host.now()))
                }
            }
        }
    }

    private func send(_ message: SWIMMessage, to peer: Ed25519.PublicKey) {
        guard let address = machine.address(of: peer) ?? addresses[peer] else {
            counters.noAddress += 1
            return
        }
        var parts = SWIMDatagram.fitting(message)
        // A request's answer is at most one datagram unless the requester holds an authenticated
        // session: a 115-byte sync request from a throwaway key with a forged source address once
        // drew 126 KB (Specs/membership.md §9). Our own requests and probes are not cut.
        if case .sync(_, isReply: true) = message.kind, parts.count > 1, !host.isConnected(peer) {
            counters.repliesTruncated += 1
            parts = Array(parts.prefix(1))
        }
        for part in parts {
            counter += 1
            let bytes = SWIMDatagram(sender: signingKey.publicKey, counter: counter, message: part)
                .signed(with: signingKey, networkID: networkID)
            if host.sendDatagram(bytes, to: address) {
                counters.datagramsSent += 1
            } else {
                counters.sendFailures += 1
            }
        }
    }

    // MARK: - Introspection

    /// Members relayed by third parties that have not answered yet (Specs/membership.md §1, admission).
    var candidateCount: Int { machine.candidateCount }

    /// Alive, suspect and dead members (this node not counted).
    var counts: MemberCounts {
        var counts = MemberCounts()
        for m in machine.allMembers {
            switch m.status {
            case .alive: counts.alive += 1
            case .suspect: counts.suspect += 1
            case .dead: counts.dead += 1
            }
        }
        return counts
    }

    /// `members`: every member with the counters; `truncatedDrops` are datagrams the sockets cut.
    func report(truncatedDrops: Int) -> MembersResult {
        let now = host.now()
        let list = machine.allMembers.map { m in
            MemberInfo(publicKey: m.id.hex, address: (m.address ?? addresses[m.id])?.description,
                       state: "\(m.status)", incarnation: m.incarnation,
                       sinceSeconds: Node.seconds(now.since(m.statusSince)))
        }
        var datagrams = counters
        datagrams.oversize += truncatedDrops
        let c = machine.counters
        return MembersResult(publicKey: signingKey.publicKey.hex, incarnation: machine.incarnation,
                             localHealth: machine.localHealth, counts: counts, members: list, datagrams: datagrams,
                             probes: c.probes, probesFailed: c.probesFailed, suspicionsRaised: c.suspicionsRaised,
                             deathsDeclared: c.deathsDeclared, refutations: c.refutations,
                             implausibleIncarnations: c.implausibleIncarnations, candidates: machine.candidateCount,
                             candidatesAdmitted: c.candidatesAdmitted, candidatesRefused: c.candidatesRefused)
    }
}

@available(*, unavailable, message: "MembershipService is confined to its host's executor")
extension MembershipService: Sendable {}
