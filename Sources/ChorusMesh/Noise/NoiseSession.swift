import ChorusCrypto

/// An established, encrypted session (Specs/transport.md §4): application messages of any size up
/// to `maxMessageSize`, split into transport messages of at most 65535 bytes of ciphertext; ping
/// and pong with a nonce for RTT; close with a reason code; rekeying of each direction after
/// 2^16 messages or 1 GiB, counted identically by sender and receiver so they stay in step.
///
/// Each transport message's plaintext starts with one header byte: bits 0–3 the kind (0 data,
/// 1 ping, 2 pong, 3 close), bit 7 set when more fragments of the same message follow.
public struct NoiseSession: Sendable {
    public enum Event: Sendable, Equatable {
        /// A whole application message (a slice of the last frame's buffer when it came in one
        /// fragment, so nothing is copied).
        case message(ArraySlice<UInt8>)
        case ping(UInt64)
        case pong(UInt64)
        case close(code: UInt16, reason: String)
    }

    enum Kind: UInt8 { case data = 0, ping = 1, pong = 2, close = 3 }

    /// The largest plaintext per transport message: 65535 − 16 (tag) − 1 (header).
    public static let maxFragment = 65535 - 16 - 1

    public let maxMessageSize: Int
    public let rekeyAfterMessages: UInt64
    public let rekeyAfterBytes: UInt64
    public let remote: IdentityProof
    private var transport: NoiseTransport
    private var sentSinceRekey: (messages: UInt64, bytes: UInt64) = (0, 0)
    private var receivedSinceRekey: (messages: UInt64, bytes: UInt64) = (0, 0)
    private var reassembly: [UInt8] = []
    private var reassembling = false
    public private(set) var rekeys = (sent: 0, received: 0)

    public init(transport: NoiseTransport, maxMessageSize: Int = 4 << 20,
                rekeyAfterMessages: UInt64 = 1 << 16, rekeyAfterBytes: UInt64 = 1 << 30) {
        self.transport = transport
        self.remote = transport.remote
        self.maxMessageSize = maxMessageSize
        self.rekeyAfterMessages = rekeyAfterMessages
        self.rekeyAfterBytes = rekeyAfterBytes
    }

    /// Encrypts an application message; returns wire frames (length-prefixed) ready to write.
    public mutating func seal(message: [UInt8]) throws(NoiseError) -> [[UInt8]] {
        guard message.count <= maxMessageSize else { throw .tooLarge(what: "message", size: message.count, limit: maxMessageSize) }
        var frames: [[UInt8]] = []
        var offset = 0
        repeat {
            let end = min(offset + Self.maxFragment, message.count)
            let more = end < message.count
            frames.append(try sealFragment(kind: .data, more: more, body: message[offset..<end]))
            offset = end
        } while offset < message.count
        return frames
    }

    public mutating func sealPing(_ nonce: UInt64) throws(NoiseError) -> [UInt8] {
        try sealFragment(kind: .ping, more: false, body: Self.le(nonce)[...])
    }

    public mutating func sealPong(_ nonce: UInt64) throws(NoiseError) -> [UInt8] {
        try sealFragment(kind: .pong, more: false, body: Self.le(nonce)[...])
    }

    public mutating func sealClose(code: UInt16, reason: String) throws(NoiseError) -> [UInt8] {
        let text = Array(reason.utf8.prefix(1024))
        return try sealFragment(kind: .close, more: false, body: ([UInt8(code >> 8), UInt8(code & 0xff)] + text)[...])
    }

    /// Decrypts one wire frame's payload (without its length prefix). Returns at most one event:
    /// fragments of a message produce nothing until the last one.
    public mutating func open(frame: [UInt8]) throws(NoiseError) -> Event? {
        var buffer = frame
        let length = try transport.receive.decryptInPlace(&buffer, message: 4)
        if Self.countAndCheck(&receivedSinceRekey, bytes: frame.count, messages: rekeyAfterMessages, limit: rekeyAfterBytes) {
            transport.receive.rekey()
            rekeys.received += 1
        }
        guard length > 0 else { throw .malformed("empty transport message") }
        let header = buffer[0]
        guard let kind = Kind(rawValue: header & 0x0f), header & 0x70 == 0 else {
            throw .malformed("unknown header byte 0x\(String(header, radix: 16))")
        }
        let more = header & 0x80 != 0
        let body = buffer[1..<length]
        switch kind {
        case .data:
            guard reassembly.count + body.count <= maxMessageSize else {
                throw .tooLarge(what: "reassembled message", size: reassembly.count + body.count, limit: maxMessageSize)
            }
            if !more && !reassembling { return .message(body) }  // one fragment: no copy
            reassembly += body
            reassembling = more
            guard !more else { return nil }
            defer { reassembly = [] }
            return .message(reassembly[...])
        case .ping, .pong:
            guard !more, body.count == 8, !reassembling else { throw .malformed("bad ping/pong") }
            let nonce = body.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            return kind == .ping ? .ping(nonce) : .pong(nonce)
        case .close:
            guard !more, body.count >= 2 else { throw .malformed("bad close") }
            let code = UInt16(body[body.startIndex]) << 8 | UInt16(body[body.startIndex + 1])
            return .close(code: code, reason: String(decoding: body.dropFirst(2), as: UTF8.self))
        }
    }

    /// Builds one wire frame in a single buffer — length, header, body, room for the tag — and
    /// encrypts header and body in place.
    private mutating func sealFragment(kind: Kind, more: Bool, body: ArraySlice<UInt8>) throws(NoiseError) -> [UInt8] {
        let ciphertextLength = 1 + body.count + ChaChaPoly.tagLength
        var frame = [UInt8]()
        frame.reserveCapacity(2 + ciphertextLength)
        frame.append(UInt8(ciphertextLength >> 8))
        frame.append(UInt8(ciphertextLength & 0xff))
        frame.append(kind.rawValue | (more ? 0x80 : 0))
        frame.append(contentsOf: body)
        frame.append(contentsOf: repeatElement(0, count: ChaChaPoly.tagLength))
        try transport.send.encryptInPlace(&frame, range: 2..<(3 + body.count))
        if Self.countAndCheck(&sentSinceRekey, bytes: ciphertextLength, messages: rekeyAfterMessages, limit: rekeyAfterBytes) {
            transport.send.rekey()
            rekeys.sent += 1
        }
        return frame
    }

    /// Counts one transport message; true (and the counter reset) when it is time to rekey.
    private static func countAndCheck(_ counter: inout (messages: UInt64, bytes: UInt64), bytes: Int,
                                      messages: UInt64, limit: UInt64) -> Bool {
        counter.messages += 1
        counter.bytes += UInt64(bytes)
        guard counter.messages >= messages || counter.bytes >= limit else { return false }
        counter = (0, 0)
        return true
    }

    private static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
}
