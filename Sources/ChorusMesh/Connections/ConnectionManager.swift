import ChorusCrypto

/// Decides which connections a node opens, accepts, keeps and closes: the pure core of the
/// transport's connection management (instance/directives style, Specs/targets.md T1).
///
/// Rules: keep `outboundTarget` outbound connections; accept at most `inboundLimit` inbound, at
/// most `inboundPerGroup` per network group; one session per identity, and when two nodes dial
/// each other at once both keep the connection initiated by the lower public key, so they agree
/// without talking; temporary bans for peers that break the protocol; re-dial every known address
/// with jittered exponential backoff, forever.
///
/// The shell feeds it events (`on…`) with the current time and carries out the returned directives.
public struct ConnectionManager: Sendable {
    public typealias ConnectionID = UInt64

    public enum Direction: String, Sendable, Hashable {
        case inbound, outbound
    }

    public enum Directive: Sendable, Equatable {
        /// Open a TCP connection to `address` as `connection`, then run the handshake as initiator.
        case dial(ConnectionID, NetAddress)
        /// Run the handshake as responder on this accepted inbound connection.
        case startHandshake(ConnectionID)
        /// Close the connection (or refuse the inbound one) for `reason`.
        case close(ConnectionID, CloseReason)
        /// A session with `peer` is up on `connection`.
        case peerConnected(ConnectionID, Ed25519.PublicKey, Direction)
        /// The session with `peer` ended.
        case peerDisconnected(ConnectionID, Ed25519.PublicKey, CloseReason)
        /// Persist that `peer` can be dialed at `address` (for restarts without seeds).
        case rememberAddress(Ed25519.PublicKey, NetAddress)
    }

    /// What the manager knows about one connection.
    public struct Connection: Sendable, Equatable {
        public enum State: Sendable, Equatable {
            case dialing
            case handshaking(deadline: MonotonicTime)
            case established(Ed25519.PublicKey)
        }
        public let id: ConnectionID
        public let direction: Direction
        public let address: NetAddress
        public var state: State
    }

    /// An address the node may dial.
    struct Candidate: Sendable {
        var identity: Ed25519.PublicKey?
        var failures = 0
        var nextDialAt: MonotonicTime = .zero
        /// An outbound peer of the previous run (Bitcoin Core's anchors): dialed before the others,
        /// so a restarted node is back with peers it trusted rather than whoever filled its book.
        var isAnchor = false
    }

    public let settings: ConnectionSettings
    public let localIdentity: Ed25519.PublicKey
    public private(set) var connections: [ConnectionID: Connection] = [:]
    private var sessions: [Ed25519.PublicKey: ConnectionID] = [:]
    private var candidates: [NetAddress: Candidate] = [:]
    private var ownAddresses: Set<NetAddress> = []
    /// Addresses of peers on another network file (`onIncompatible`): never dialed again in this
    /// run. At most `maxIncompatibleAddresses`; beyond, such an address only backs off.
    private var incompatibleAddresses: Set<NetAddress> = []
    public static let maxIncompatibleAddresses = 1024
    private var bannedIdentities: [Ed25519.PublicKey: MonotonicTime] = [:]
    private var bannedHosts: [NetAddress.Host: MonotonicTime] = [:]
    /// Identities SWIM confirmed dead, with when: dialed at once, beyond the outbound target if
    /// need be, when seen alive again (Specs/membership.md §10). At most `maxDeadMembers`; the
    /// oldest verdict goes first.
    private var deadMembers: [Ed25519.PublicKey: MonotonicTime] = [:]
    /// Dead members remembered at most (SWIM keeps no more members than this either).
    public static let maxDeadMembers = 4096
    private var nextID: ConnectionID = 1
    private var rng: SplitMix64

    public init(localIdentity: Ed25519.PublicKey, settings: ConnectionSettings = .init(), seed: UInt64) {
        self.localIdentity = localIdentity
        self.settings = settings
        self.rng = SplitMix64(seed: seed)
    }

    // MARK: - Queries

    public var establishedPeers: [Ed25519.PublicKey: ConnectionID] { sessions }

    public func count(_ direction: Direction) -> Int {
        connections.values.filter { $0.direction == direction }.count
    }

    /// Inbound connections with an established session (what `inboundLimit` bounds).
    var establishedInbound: Int {
        connections.values.filter { c in
            if c.direction == .inbound, case .established = c.state { true } else { false }
        }.count
    }

    /// Inbound connections still handshaking, oldest (earliest deadline) first.
    var handshakingInbound: [(ConnectionID, MonotonicTime)] {
        connections.values.compactMap { c -> (ConnectionID, MonotonicTime)? in
            guard c.direction == .inbound, case let .handshaking(deadline) = c.state else { return nil }
            return (c.id, deadline)
        }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    public func isBanned(_ identity: Ed25519.PublicKey, now: MonotonicTime) -> Bool {
        (bannedIdentities[identity].map { $0 > now }) ?? false
    }

    /// Addresses the manager would dial, with the identity expected there when known.
    public var knownAddresses: [(NetAddress, Ed25519.PublicKey?)] {
        candidates.sorted { $0.key < $1.key }.map { ($0.key, $0.value.identity) }
    }

    // MARK: - Inputs

    /// Adds dialable addresses (seeds, stored peers, peer exchange). Known addresses keep their state.
    public mutating func addCandidates(_ addresses: [(NetAddress, Ed25519.PublicKey?)]) {
        for (address, identity) in addresses where !ownAddresses.contains(address) && !incompatibleAddresses.contains(address) {
            if var existing = candidates[address] {
                if let identity { existing.identity = identity }
                candidates[address] = existing
            } else {
                candidates[address] = Candidate(identity: identity)
            }
        }
    }

    /// Adds the outbound peers of the previous run as candidates dialed before all others (while
    /// eligible: not in backoff, banned or connected).
    public mutating func addAnchors(_ addresses: [(NetAddress, Ed25519.PublicKey?)]) {
        addCandidates(addresses)
        for (address, _) in addresses where candidates[address] != nil { candidates[address]?.isAnchor = true }
    }

    /// The addresses of the established outbound sessions, to be saved as the next run's anchors.
    public var outboundSessionAddresses: [(NetAddress, Ed25519.PublicKey)] {
        sessions.compactMap { entry -> (NetAddress, Ed25519.PublicKey)? in
            guard let c = connections[entry.value], c.direction == .outbound else { return nil }
            return (c.address, entry.key)
        }.sorted { $0.0 < $1.0 }
    }

    /// Periodic maintenance: handshake deadlines, ban expiry, and dialing up to the outbound target.
    public mutating func onTick(now: MonotonicTime) -> [Directive] {
        var directives: [Directive] = []
        for (id, c) in connections.sorted(by: { $0.key < $1.key }) {
            if case let .handshaking(deadline) = c.state, deadline <= now {
                directives += closeConnection(id, reason: .handshakeTimeout, now: now)
            }
        }
        bannedIdentities = bannedIdentities.filter { $0.value > now }
        bannedHosts = bannedHosts.filter { $0.value > now }
        directives += dialIfNeeded(now: now)
        return directives
    }

    /// An inbound TCP connection arrived from `remote`. Returns its id and either a handshake start
    /// or a refusal.
    public mutating func onInbound(from remote: NetAddress, now: MonotonicTime) -> (ConnectionID, [Directive]) {
        let id = allocateID()
        let refusal: CloseReason?
        if let until = bannedHosts[remote.host], until > now {
            refusal = .banned
        } else if establishedInbound >= settings.inboundLimit {
            refusal = .inboundLimit
        } else if let perGroup = settings.inboundPerGroup, !remote.isLoopback,
                  connections.values.filter({ $0.direction == .inbound && $0.address.group == remote.group }).count >= perGroup {
            refusal = .groupLimit
        } else {
            refusal = nil
        }
        if let refusal { return (id, [.close(id, refusal)]) }
        var directives: [Directive] = []
        let handshaking = handshakingInbound
        if handshaking.count >= settings.maxInboundHandshakes {
            for (oldest, _) in handshaking.prefix(handshaking.count - settings.maxInboundHandshakes + 1) {
                directives += closeConnection(oldest, reason: .handshakeTimeout, now: now)
            }
        }
        connections[id] = Connection(id: id, direction: .inbound, address: remote,
                                     state: .handshaking(deadline: now + settings.handshakeTimeout))
        directives.append(.startHandshake(id))
        return (id, directives)
    }

    /// The TCP connect of an outbound connection succeeded; the handshake starts now.
    public mutating func onDialConnected(_ id: ConnectionID, now: MonotonicTime) -> [Directive] {
        guard var c = connections[id], c.state == .dialing else { return [] }
        c.state = .handshaking(deadline: now + settings.handshakeTimeout)
        connections[id] = c
        return []
    }

    /// The TCP connect failed (refused, unreachable, timed out).
    public mutating func onDialFailed(_ id: ConnectionID, now: MonotonicTime) -> [Directive] {
        guard let c = connections.removeValue(forKey: id) else { return [] }
        noteFailure(c.address, now: now)
        return dialIfNeeded(now: now)
    }

    /// The handshake finished and authenticated `identity`. `advertised` is the listen address the
    /// peer announced, if any (learned addresses of inbound peers are their ephemeral ports, useless
    /// for re-dialing).
    public mutating func onHandshakeComplete(_ id: ConnectionID, identity: Ed25519.PublicKey,
                                             advertised: NetAddress?, now: MonotonicTime) -> [Directive] {
        guard var c = connections[id] else { return [] }
        var directives: [Directive] = []
        if identity == localIdentity {
            if c.direction == .outbound {
                ownAddresses.insert(c.address)
                candidates[c.address] = nil
            }
            return closeConnection(id, reason: .selfConnection, now: now)
        }
        if isBanned(identity, now: now) {
            return closeConnection(id, reason: .banned, now: now)
        }
        // Handshakes run beside full inbound slots (they are bounded apart): the slot is taken only now.
        if c.direction == .inbound, sessions[identity] == nil, establishedInbound >= settings.inboundLimit {
            return closeConnection(id, reason: .inboundLimit, now: now)
        }
        if let existing = sessions[identity], let other = connections[existing] {
            // Both sides keep the connection initiated by the lower key, so they agree without a message.
            let lowerInitiates = min(localIdentity, identity)
            let existingInitiator = other.direction == .outbound ? localIdentity : identity
            let newInitiator = c.direction == .outbound ? localIdentity : identity
            if existingInitiator == lowerInitiates || newInitiator != lowerInitiates {
                return closeConnection(id, reason: .duplicateSession, now: now)
            }
            directives += closeConnection(existing, reason: .duplicateSession, now: now)
        }
        c.state = .established(identity)
        connections[id] = c
        sessions[identity] = id
        directives.append(.peerConnected(id, identity, c.direction))
        let dialable = c.direction == .outbound ? c.address : advertised
        if let dialable, !ownAddresses.contains(dialable) {
            var candidate = candidates[dialable] ?? Candidate()
            candidate.identity = identity
            candidate.failures = 0
            candidates[dialable] = candidate
            directives.append(.rememberAddress(identity, dialable))
        }
        return directives
    }

    /// The connection closed: the peer hung up, a read failed, or the shell closed it.
    public mutating func onClosed(_ id: ConnectionID, reason: CloseReason, now: MonotonicTime) -> [Directive] {
        var directives = closeConnection(id, reason: reason, now: now, alreadyClosed: true)
        directives += dialIfNeeded(now: now)
        return directives
    }

    /// The peer on `id` broke the protocol: close it and ban its identity and host for a while.
    public mutating func onMisbehaviour(_ id: ConnectionID, reason: CloseReason, now: MonotonicTime) -> [Directive] {
        guard let c = connections[id] else { return [] }
        let until = now + settings.banDuration
        if case let .established(identity) = c.state { bannedIdentities[identity] = until }
        if !c.address.isLoopback { bannedHosts[c.address.host] = until }
        return closeConnection(id, reason: reason, now: now)
    }

    /// The peer on `id` runs another network file (Specs/transport.md §2): close it, and when this
    /// node dialed it, stop dialing that address (as for its own addresses): retrying cannot help,
    /// and a peer restarted with the right file dials back or is learned again after a restart.
    public mutating func onIncompatible(_ id: ConnectionID, reason: CloseReason, now: MonotonicTime) -> [Directive] {
        guard let c = connections[id] else { return [] }
        if c.direction == .outbound, incompatibleAddresses.count < Self.maxIncompatibleAddresses {
            incompatibleAddresses.insert(c.address)
            candidates[c.address] = nil
        }
        var directives = closeConnection(id, reason: reason, now: now)
        directives += dialIfNeeded(now: now)
        return directives
    }

    /// SWIM confirmed `identity` dead: its session is closed (its mesh slots go to others) unless
    /// `closingSession` is false (a member that announced its departure closes its own). Its
    /// addresses stay dialable with the usual backoff, as after any lost session: a member wrongly
    /// declared dead (a loaded machine) is reconnected and refutes over the new session, instead of
    /// waiting for the verdict to be undone by SWIM alone (a test mesh once stayed incomplete for
    /// 30 s that way). `onMemberAlive` then dials it at once.
    public mutating func onMemberDead(_ identity: Ed25519.PublicKey, closingSession: Bool = true,
                                      now: MonotonicTime) -> [Directive] {
        guard identity != localIdentity else { return [] }
        if deadMembers[identity] == nil, deadMembers.count >= Self.maxDeadMembers,
           let oldest = deadMembers.min(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key {
            deadMembers[oldest] = nil
        }
        deadMembers[identity] = now
        var directives: [Directive] = []
        if closingSession, let id = sessions[identity] { directives += closeConnection(id, reason: .memberDead, now: now) }
        directives += dialIfNeeded(now: now)
        return directives
    }

    /// A member seen dead is alive again: it is dialed now (at `address` when given, else at the
    /// addresses known for it), without waiting for its backoff, beyond the outbound target when
    /// the slots are full (up to `returningMemberSlots` more).
    public mutating func onMemberAlive(_ identity: Ed25519.PublicKey, address: NetAddress?, now: MonotonicTime) -> [Directive] {
        guard deadMembers.removeValue(forKey: identity) != nil else { return [] }
        if let address { addCandidates([(address, identity)]) }
        for (known, candidate) in candidates where candidate.identity == identity {
            candidates[known]?.nextDialAt = now
        }
        var directives = dialIfNeeded(now: now)
        // Slots full (others took them while the member was dead): it may still take one of the
        // `returningMemberSlots` beyond the target.
        guard !connections.values.contains(where: { $0.direction == .outbound && candidates[$0.address]?.identity == identity }),
              count(.outbound) < settings.outboundTarget + settings.returningMemberSlots,
              let address = dialableCandidates(now: now).first(where: { candidates[$0]?.identity == identity })
        else { return directives }
        directives.append(startDial(address))
        return directives
    }

    /// Whether SWIM's last verdict on `identity` was dead.
    public func isDeadMember(_ identity: Ed25519.PublicKey) -> Bool { deadMembers[identity] != nil }

    /// Bans an identity without a connection (e.g. proven equivocation reported by gossip).
    public mutating func ban(_ identity: Ed25519.PublicKey, now: MonotonicTime) -> [Directive] {
        bannedIdentities[identity] = now + settings.banDuration
        guard let id = sessions[identity] else { return [] }
        return closeConnection(id, reason: .banned, now: now)
    }

    // MARK: - Internals

    private mutating func allocateID() -> ConnectionID {
        defer { nextID += 1 }
        return nextID
    }

    private mutating func closeConnection(_ id: ConnectionID, reason: CloseReason, now: MonotonicTime,
                                          alreadyClosed: Bool = false) -> [Directive] {
        guard let c = connections.removeValue(forKey: id) else { return [] }
        var directives: [Directive] = alreadyClosed ? [] : [.close(id, reason)]
        switch c.state {
        case let .established(identity):
            if sessions[identity] == id {
                sessions[identity] = nil
                directives.append(.peerDisconnected(id, identity, reason))
            }
            // A lost session is re-dialed soon: the first retry comes after `redialBase`.
            if c.direction == .outbound, var candidate = candidates[c.address] {
                candidate.nextDialAt = now + jittered(settings.redialBase)
                candidates[c.address] = candidate
            }
        case .dialing, .handshaking:
            if c.direction == .outbound { noteFailure(c.address, now: now) }
        }
        return directives
    }

    private mutating func noteFailure(_ address: NetAddress, now: MonotonicTime) {
        guard var candidate = candidates[address] else { return }
        candidate.failures += 1
        let exponent = min(candidate.failures - 1, 16)
        let base = settings.redialBase * (1 << exponent)
        candidate.nextDialAt = now + jittered(min(base, settings.redialMax))
        candidates[address] = candidate
    }

    /// `d` scaled by a random factor in [0.5, 1.5).
    private mutating func jittered(_ d: Duration) -> Duration {
        let factor = 0.5 + Double(rng.next() >> 11) / Double(1 << 53)
        return .nanoseconds(Int64(Double(d.nanoseconds) * factor))
    }

    private mutating func dialIfNeeded(now: MonotonicTime) -> [Directive] {
        var directives: [Directive] = []
        var outbound = count(.outbound)
        guard outbound < settings.outboundTarget else { return [] }
        var eligible = dialableCandidates(now: now)
        while outbound < settings.outboundTarget, !eligible.isEmpty {
            let anchors = eligible.indices.filter { candidates[eligible[$0]]?.isAnchor == true }
            let pick = anchors.isEmpty ? Int(rng.next() % UInt64(eligible.count)) : anchors[0]
            directives.append(startDial(eligible.remove(at: pick)))
            outbound += 1
        }
        return directives
    }

    /// Candidate addresses that may be dialed now, ascending: due, not in use by a connection, their
    /// identity (when known) neither connected nor banned, their host not banned.
    private func dialableCandidates(now: MonotonicTime) -> [NetAddress] {
        let busy = Set(connections.values.map(\.address))
        return candidates.filter { address, c in
            c.nextDialAt <= now && !busy.contains(address)
                && !(c.identity.map { sessions[$0] != nil || isBanned($0, now: now) } ?? false)
                && !((bannedHosts[address.host].map { $0 > now }) ?? false)
        }.map(\.key).sorted()
    }

    /// Opens an outbound connection to `address` (the shell dials it).
    private mutating func startDial(_ address: NetAddress) -> Directive {
        let id = allocateID()
        connections[id] = Connection(id: id, direction: .outbound, address: address, state: .dialing)
        return .dial(id, address)
    }
}
