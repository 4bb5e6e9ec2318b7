#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ChorusLoop

@Suite struct SocketAddressTests {
    @Test func parsesIPv4() throws {
        let address = try SocketAddress(parsing: "192.168.1.20:7000")
        #expect(address.family == .ipv4)
        #expect(address.port == 7000)
        #expect(address.host == "192.168.1.20")
        #expect(address.addressBytes == [192, 168, 1, 20])
        #expect(address.description == "192.168.1.20:7000")
    }

    @Test func parsesBracketedIPv6() throws {
        let address = try SocketAddress(parsing: "[2001:db8::1]:443")
        #expect(address.family == .ipv6)
        #expect(address.port == 443)
        #expect(address.host == "2001:db8::1")
        #expect(address.addressBytes == [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])
        #expect(address.description == "[2001:db8::1]:443")
    }

    @Test func numericZoneRoundTrips() throws {
        let address = try SocketAddress(parsing: "[fe80::1%3]:80")
        #expect(address.scopeID == 3)
        #expect(address.description == "[fe80::1%3]:80")
        #expect(try SocketAddress(parsing: address.description) == address)
    }

    @Test(arguments: [
        "127.0.0.1:0", "0.0.0.0:65535", "[::]:1", "[::1]:7000", "[::ffff:10.0.0.1]:9", "10.20.30.40:8080",
    ])
    func descriptionRoundTrips(_ text: String) throws {
        #expect(try SocketAddress(parsing: text).description == text)
    }

    @Test func wellKnownAddresses() throws {
        #expect(SocketAddress.loopbackIPv4(port: 1).description == "127.0.0.1:1")
        #expect(SocketAddress.loopbackIPv6(port: 2).description == "[::1]:2")
        #expect(SocketAddress.anyIPv4(port: 3).description == "0.0.0.0:3")
        #expect(SocketAddress.anyIPv6(port: 4).description == "[::]:4")
        #expect(SocketAddress.loopbackIPv4(port: 1).withPort(9) == (try SocketAddress(parsing: "127.0.0.1:9")))
    }

    @Test func hostAndPortInitialiser() throws {
        #expect(try SocketAddress(host: "::1", port: 5) == .loopbackIPv6(port: 5))
        #expect(try SocketAddress(host: "127.0.0.1", port: 5) == .loopbackIPv4(port: 5))
    }

    @Test func fromAddressBytes() throws {
        #expect(try SocketAddress(addressBytes: [127, 0, 0, 1], port: 80) == .loopbackIPv4(port: 80))
        let loopbackIPv6Bytes: [UInt8] = Array(repeating: 0, count: 15) + [1]
        #expect(try SocketAddress(addressBytes: loopbackIPv6Bytes, port: 80) == .loopbackIPv6(port: 80))
        #expect(throws: LoopError.self) { try SocketAddress(addressBytes: [1, 2, 3], port: 80) }
    }

    @Test(arguments: [
        "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x", "localhost:80",
        "::1:80", "[::1]", "[::1]80", "[::1:80", "1.2.3:80", "[127.0.0.1]:80", "[fe80::1%nosuchif0]:80",
        "999.1.1.1:80", " 127.0.0.1:80",
    ])
    func rejectsMalformedText(_ text: String) {
        let error = #expect(throws: LoopError.self) { try SocketAddress(parsing: text) }
        #expect(error?.code == .invalidAddress)
        #expect(error?.description.contains("parse socket address") == true)
    }

    @Test func sockaddrConversionRoundTrips() throws {
        for text in ["10.1.2.3:4567", "[2001:db8::42]:1", "[fe80::1%2]:80"] {
            let address = try SocketAddress(parsing: text)
            let back = address.withSockAddr { pointer in
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    let length = address.family == .ipv4 ? 16 : 28  // sizeof sockaddr_in / sockaddr_in6
                    target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length))
                }
                return SocketAddress(storage)
            }
            #expect(back == address)
        }
    }
}
