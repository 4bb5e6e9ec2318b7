import ChorusCrypto
import ChorusWire

/// One SWIM message as a UDP datagram, signed by its sender (`Specs/membership.md` §"Datagrams").
///
/// Membership runs over UDP so that a probe measures the member itself, not a TCP session that may
/// sit in a retransmission backoff. Without a session there is no channel authentication, so every
/// datagram carries its sender's Ed25519 key and a signature over a domain-separation prefix, the
/// network id and the datagram: nobody can forge "X is dead", an ack for a dead member, or feed one
/// network's datagrams to another. `counter` rises with every datagram a sender sends (it starts at
/// the sender's Unix time in nanoseconds, so it also rises across restarts), and receivers keep a
/// `ReplayWindow` per sender, so a captured datagram sent again does nothing.
public struct SWIMDatagram: Sendable, Equatable {
    /// The only version so far.
    public static let version: UInt8 = 1
    /// Signed before the network id and the datagram: a signature made for anything else never verifies here.
    public static let domain = Array("chorus/swim/1\0".utf8)
    /// The default size limit: fits a 1,500-byte Ethernet MTU with IPv6 and UDP headers, no fragmentation.
    public static let defaultMaxSize = 1400
    /// Bounds that keep decoding cheap whatever a datagram claims.
    static let maxUpdates = 256
    static let maxAddressLength = 128

    public var sender: Ed25519.PublicKey
    public var counter: UInt64
    public var message: SWIMMessage

    public init(sender: Ed25519.PublicKey, counter: UInt64, message: SWIMMessage) {
        self.sender = sender
        self.counter = counter
        self.message = message
    }

    // MARK: - Encoding

    /// The signed datagram: version, sender, counter, message, then the 64-byte signature.
    public func signed(with key: Ed25519.SigningKey, networkID: String) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: 256)
        writer.writeU8(Self.version)
        writer.writePublicKey(sender)
        writer.writeU64(counter)
        Self.encode(message, into: &writer)
        let unsigned = writer.bytes
        writer.writeSignature(key.sign(Self.signingInput(unsigned[...], networkID: networkID)))
        return writer.bytes
    }

    /// Decodes and verifies a datagram. Throws for anything malformed, over `maxSize`, of another
    /// version, or not signed by its claimed sender for `networkID`.
    public init(verifying bytes: [UInt8], networkID: String, maxSize: Int = defaultMaxSize) throws(WireError) {
        guard bytes.count <= maxSize else {
            throw .lengthOverLimit(field: "swim.datagram", length: bytes.count, limit: maxSize)
        }
        guard bytes.count >= 1 + 32 + 8 + 1 + Ed25519.signatureLength else {
            throw .truncated(field: "swim.datagram", needed: 1 + 32 + 8 + 1 + Ed25519.signatureLength, remaining: bytes.count)
        }
        let signedPart = bytes[..<(bytes.count - Ed25519.signatureLength)]
        var reader = WireReader(signedPart)
        let version = try reader.readU8(field: "swim.version")
        guard version == Self.version else {
            throw .unknownVersion(what: "swim datagram", version: Int(version), highestKnown: Int(Self.version))
        }
        sender = try reader.readPublicKey(field: "swim.sender")
        counter = try reader.readU64(field: "swim.counter")
        message = try Self.decodeMessage(&reader)
        try reader.finish()
        var tail = WireReader(bytes[(bytes.count - Ed25519.signatureLength)...])
        let signature = try tail.readSignature(field: "swim.signature")
        guard sender.isValidSignature(signature, for: Self.signingInput(signedPart, networkID: networkID)) else {
            throw .badSignature
        }
    }

    /// domain ‖ u32 length ‖ network id ‖ the datagram up to its signature.
    static func signingInput(_ unsigned: ArraySlice<UInt8>, networkID: String) -> [UInt8] {
        var writer = WireWriter(reservingCapacity: unsigned.count + 64)
        writer.writeRaw(domain)
        writer.writeString(networkID)
        writer.writeRaw(unsigned)
        return writer.bytes
    }

    enum KindTag: UInt8 {
        case ping = 1, pingRequest = 2, ack = 3, nack = 4, gossip = 5, sync = 6
    }

    static func encode(_ message: SWIMMessage, into writer: inout WireWriter) {
        switch message.kind {
        case let .ping(sequence):
            writer.writeU8(KindTag.ping.rawValue)
            writer.writeU64(sequence)
        case let .pingRequest(sequence, target, timeout):
            writer.writeU8(KindTag.pingRequest.rawValue)
            writer.writeU64(sequence)
            writer.writePublicKey(target)
            writer.writeU32(timeout)
        case let .ack(sequence):
            writer.writeU8(KindTag.ack.rawValue)
            writer.writeU64(sequence)
        case let .nack(sequence):
            writer.writeU8(KindTag.nack.rawValue)
            writer.writeU64(sequence)
        case .gossip:
            writer.writeU8(KindTag.gossip.rawValue)
        case let .sync(members, isReply):
            writer.writeU8(KindTag.sync.rawValue)
            writer.writeBool(isReply)
            writer.writeArray(members, encodeUpdate)
        }
        writer.writeArray(message.updates, encodeUpdate)
    }

    static func encodeUpdate(_ writer: inout WireWriter, _ update: MemberUpdate) {
        writer.writePublicKey(update.member)
        writer.writeU8(update.status.rawValue)
        writer.writeU64(update.incarnation)
        writer.writeOptional(update.address) { $0.writeString($1.description) }
        writer.writeOptional(update.source) { $0.writePublicKey($1) }
    }

    static func decodeMessage(_ reader: inout WireReader) throws(WireError) -> SWIMMessage {
        let tag = try reader.readU8(field: "swim.kind")
        let kind: SWIMMessage.Kind
        switch KindTag(rawValue: tag) {
        case .ping: kind = .ping(sequence: try reader.readU64(field: "swim.sequence"))
        case .pingRequest:
            kind = .pingRequest(sequence: try reader.readU64(field: "swim.sequence"),
                                target: try reader.readPublicKey(field: "swim.target"),
                                timeoutMilliseconds: try reader.readU32(field: "swim.timeout_ms"))
        case .ack: kind = .ack(sequence: try reader.readU64(field: "swim.sequence"))
        case .nack: kind = .nack(sequence: try reader.readU64(field: "swim.sequence"))
        case .gossip: kind = .gossip
        case .sync:
            let isReply = try reader.readBool(field: "swim.is_reply")
            kind = .sync(members: try readUpdates(&reader, field: "swim.members"), isReply: isReply)
        case nil: throw .unknownType("swim message kind \(tag)")
        }
        return SWIMMessage(kind, updates: try readUpdates(&reader, field: "swim.updates"))
    }

    static func readUpdates(_ reader: inout WireReader, field: String) throws(WireError) -> [MemberUpdate] {
        try reader.readArray(field: field, maxCount: maxUpdates, minElementSize: 43) { (r: inout WireReader) throws(WireError) in
            let member = try r.readPublicKey(field: "\(field).member")
            let raw = try r.readU8(field: "\(field).status")
            guard let status = MemberStatus(rawValue: raw) else {
                throw .invalidValue(field: "\(field).status", reason: "must be 0 (alive), 1 (suspect) or 2 (dead), got \(raw)")
            }
            let incarnation = try r.readU64(field: "\(field).incarnation")
            guard incarnation <= MemberUpdate.maxIncarnation else {
                throw .invalidValue(field: "\(field).incarnation", reason: "\(incarnation) is above the maximum 2^62")
            }
            let address = try r.readOptional(field: "\(field).address") { (r: inout WireReader) throws(WireError) -> NetAddress in
                let text = try r.readString(field: "\(field).address", maxLength: maxAddressLength)
                let address: NetAddress
                do { address = try NetAddress(parsing: text) } catch {
                    throw .invalidValue(field: "\(field).address", reason: "\"\(text)\" is not host:port")
                }
                // One value, one encoding (Specs/gossip.md §5): "063.0.0.1:7701" is refused, as in peer records.
                guard address.description == text else {
                    throw .invalidValue(field: "\(field).address", reason: "\"\(text)\" is not in canonical form \"\(address.description)\"")
                }
                return address
            }
            let source = try r.readOptional(field: "\(field).source") { (r: inout WireReader) throws(WireError) in
                try r.readPublicKey(field: "\(field).source")
            }
            return MemberUpdate(member: member, status: status, incarnation: incarnation, address: address, source: source)
        }
    }

    // MARK: - Size

    /// Encoded size of everything but the message (version, sender, counter, signature).
    static let overhead = 1 + 32 + 8 + Ed25519.signatureLength

    /// The encoded size of a datagram carrying `message`.
    public static func size(of message: SWIMMessage) -> Int {
        var writer = WireWriter(reservingCapacity: 256)
        encode(message, into: &writer)
        return overhead + writer.count
    }

    /// Splits `message` into messages whose datagrams fit `maxSize`. Piggybacked updates that do not
    /// fit are left off (every update is sent several times, so a later message carries it). A full
    /// state that does not fit goes out in parts: only the first keeps `isReply == false`, so the
    /// receiver answers once; the rest are marked as replies (applied, never answered).
    public static func fitting(_ message: SWIMMessage, maxSize: Int = defaultMaxSize) -> [SWIMMessage] {
        var message = message
        if case let .sync(members, isReply) = message.kind {
            var parts: [SWIMMessage] = []
            var current: [MemberUpdate] = []
            for update in members {
                current.append(update)
                if size(of: SWIMMessage(.sync(members: current, isReply: isReply))) > maxSize, current.count > 1 {
                    current.removeLast()
                    parts.append(SWIMMessage(.sync(members: current, isReply: parts.isEmpty ? isReply : true)))
                    current = [update]
                }
            }
            parts.append(SWIMMessage(.sync(members: current, isReply: parts.isEmpty ? isReply : true)))
            parts[parts.count - 1].updates = message.updates
            while parts.count > 0, size(of: parts[parts.count - 1]) > maxSize, !parts[parts.count - 1].updates.isEmpty {
                parts[parts.count - 1].updates.removeLast()
            }
            return parts
        }
        while size(of: message) > maxSize, !message.updates.isEmpty { message.updates.removeLast() }
        return [message]
    }
}
