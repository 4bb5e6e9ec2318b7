import ChorusCrypto
import Testing

@Suite("Raw-buffer initialisers")
struct RawBufferInitializerTests {
    @Test func bytes32CopiesExactly32Bytes() {
        let raw = (0..<32).map { UInt8($0) }
        #expect(raw.withUnsafeBytes { Bytes32(copying: $0) } == Bytes32(raw))
        #expect((raw + [0]).withUnsafeBytes { Bytes32(copying: $0) } == nil)
        #expect(raw.dropLast().withUnsafeBytes { Bytes32(copying: $0) } == nil)
    }

    @Test func signatureCopiesRThenS() throws {
        let raw = (0..<64).map { UInt8(255 - $0) }
        let copied = try #require(raw.withUnsafeBytes { Ed25519.Signature(copying: $0) })
        #expect(copied == (try Ed25519.Signature(bytes: raw)))
        #expect(copied.bytes == raw)
        #expect(Ed25519.Signature(r: copied.r, s: copied.s) == copied)
        #expect(raw.dropLast().withUnsafeBytes { Ed25519.Signature(copying: $0) } == nil)
    }
}
