/// Splits a byte stream into Noise wire frames: a 2-byte big-endian length, then that many bytes
/// (at most 65535). Feed it chunks of any size; it returns every complete frame. It never buffers
/// more than one partial frame (≤ 65537 bytes), so a peer cannot make it grow without bound.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet returned as a frame.
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func feed(_ chunk: [UInt8]) -> [[UInt8]] {
        buffer += chunk
        var frames: [[UInt8]] = []
        while buffer.count - start >= 2 {
            let length = Int(buffer[start]) << 8 | Int(buffer[start + 1])
            guard buffer.count - start >= 2 + length else { break }
            frames.append(Array(buffer[(start + 2)..<(start + 2 + length)]))
            start += 2 + length
        }
        if start > 0 && (start == buffer.count || start > 65_536) {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }

    /// Prefixes `payload` (≤ 65535 bytes) with its 2-byte big-endian length.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= 65535, "frame payloads are at most 65535 bytes")
        return [UInt8(payload.count >> 8), UInt8(payload.count & 0xff)] + payload
    }
}
