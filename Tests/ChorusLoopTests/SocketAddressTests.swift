import Testing
import ChorusLoop

@Suite struct SocketAddressTests {
    @Test func parsesIPv4() throws {
        let address = try SocketAddress(parsing: "192.168.1.20:7000")
        #expect(address.family == .ipv4)
        #expect(address.port == 7000)
        #expect(address.host == "192.168.1.20")
        #expect(address.addressBytes == [192, 168, 1, 20])
        #expect(address.description == "192.168.1.20:7000")
    }
}
