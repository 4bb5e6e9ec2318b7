/// Splits a byte stream into Noise wire frames: a 2-byte big-endian length, then that many bytes
/// (at most 65535). Feed it chunks of any size; it returns every complete frame. It never buffers
/// more than one partial frame (≤ `maxFrameLength` + 2 bytes), so a peer cannot make it grow without
/// bound, and a frame announcing more than `maxFrameLength` is refused as soon as its length arrives,
/// before any of its bytes are buffered.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    /// The largest frame accepted. The shell lowers it during the handshake, whose messages are small
    /// (Specs/transport.md §2), and raises it to 65535 once the session is up.
    public var maxFrameLength: Int

    public init(maxFrameLength: Int = 65535) {
        self.maxFrameLength = min(maxFrameLength, 65535)
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedBytes: Int { buffer.count - start }

    /// Appends `chunk` and returns every frame it completes.
    ///
    /// - Throws: `NoiseError.tooLarge` when a frame announces more than `maxFrameLength` bytes; the
    ///   stream is then unusable and the connection must be closed.
    public mutating func feed(_ chunk: [UInt8]) throws(NoiseError) -> [[UInt8]] {
        append(chunk)
        var frames: [[UInt8]] = []
        while let frame = try next() { frames.append(frame) }
        return frames
    }

    /// Buffers received bytes; take frames out with `next()`.
    public mutating func append(_ chunk: [UInt8]) {
        if buffer.isEmpty {
            buffer = chunk  // shares the chunk's storage: no copy in the common case
        } else {
            buffer += chunk
        }
    }

    /// The next complete frame, or nil until more bytes arrive. Taking frames one at a time lets the
    /// caller change `maxFrameLength` between them (when the handshake completes mid-chunk).
    ///
    /// - Throws: `NoiseError.tooLarge` when the next frame announces more than `maxFrameLength`.
    public mutating func next() throws(NoiseError) -> [UInt8]? {
        guard buffer.count - start >= 2 else { return nil }
        let length = Int(buffer[start]) << 8 | Int(buffer[start + 1])
        guard length <= maxFrameLength else {
            throw .tooLarge(what: "frame", size: length, limit: maxFrameLength)
        }
        guard buffer.count - start >= 2 + length else { return nil }
        let frame = Array(buffer[(start + 2)..<(start + 2 + length)])
        start += 2 + length
        if start == buffer.count {
            buffer = []
            start = 0
        } else if start > 65_536 {
            buffer.removeFirst(start)
            start = 0
        }
        return frame
    }

    /// Prefixes `payload` (≤ 65535 bytes) with its 2-byte big-endian length.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= 65535, "frame payloads are at most 65535 bytes")
        return [UInt8(payload.count >> 8), UInt8(payload.count & 0xff)] + payload
    }
}
