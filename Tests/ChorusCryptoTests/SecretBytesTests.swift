import ChorusCrypto
import Testing

@Suite("SecretBytes")
struct SecretBytesTests {
    @Test func descriptionsAreRedacted() {
        let secret = SecretBytes([0xde, 0xad, 0xbe, 0xef, 0x42])
        for text in ["\(secret)", String(reflecting: secret), String(describing: [secret]), "\(Optional(secret) as Any)"] {
            #expect(text.contains("redacted"), "\(text)")
            #expect(!text.lowercased().contains("deadbeef"), "\(text)")
            #expect(!text.contains("222"), "\(text)")  // 0xde as decimal
        }
    }

    @Test func holdsTheBytesItWasGiven() {
        let secret = SecretBytes([1, 2, 3])
        #expect(secret.count == 3)
        #expect(secret.withUnsafeBytes { Array($0) } == [1, 2, 3])
        #expect(SecretBytes(count: 2) { $0[0] = 9; $0[1] = 8 }.withUnsafeBytes { Array($0) } == [9, 8])
    }

    @Test func constantTimeEquality() {
        let a = SecretBytes([UInt8](repeating: 5, count: 32))
        #expect(a.constantTimeEquals(SecretBytes([UInt8](repeating: 5, count: 32))))
        #expect(a.constantTimeEquals(a))
        var last = [UInt8](repeating: 5, count: 32)
        last[31] = 6
        #expect(!a.constantTimeEquals(SecretBytes(last)))
        var first = [UInt8](repeating: 5, count: 32)
        first[0] = 4
        #expect(!a.constantTimeEquals(SecretBytes(first)))
        #expect(!a.constantTimeEquals(SecretBytes([UInt8](repeating: 5, count: 31))))
        #expect(SecretBytes([]).constantTimeEquals(SecretBytes([])))
    }

    @Test func randomSecretsDiffer() {
        let a = SecretBytes.random(count: 32)
        let b = SecretBytes.random(count: 32)
        #expect(a.count == 32)
        #expect(!a.constantTimeEquals(b))
    }
}
