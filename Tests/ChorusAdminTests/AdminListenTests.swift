import ChorusAdmin
import ChorusHTTP
import Testing

/// The admin listener setting: off, an address, or the default derived from the node's port.
@Suite struct AdminListenTests {
    @Test func parsesOffAddressesAndDefault() throws {
        #expect(try AdminListen("off") == .off)
        #expect(try AdminListen(nil) == .default)
        #expect(try AdminListen("") == .default)
        #expect(try AdminListen("127.0.0.1:9100") == .address(.tcp(host: "127.0.0.1", port: 9100)))
        #expect(try AdminListen("[::1]:9100") == .address(.tcp(host: "::1", port: 9100)))
        #expect(try AdminListen("unix:/tmp/admin.sock") == .address(.unix(path: "/tmp/admin.sock")))
    }

    @Test func refusesMalformedSettingsNamingTheForms() {
        for bad in ["9100", "localhost", "127.0.0.1:70000", "127.0.0.1:", "unix:", "on"] {
            #expect(throws: AdminListenError.self) { try AdminListen(bad) }
        }
        do { _ = try AdminListen("on") } catch {
            #expect(error.description.contains("HOST:PORT") && error.description.contains("off"))
        }
    }

    @Test func defaultIsLoopbackOnTheNodePortPlus1000() {
        #expect(AdminListen.defaultAddress(nodeListen: ["0.0.0.0:7700"]) == .tcp(host: "127.0.0.1", port: 8700))
        #expect(AdminListen.defaultAddress(nodeListen: ["127.0.0.1:0"]) == .tcp(host: "127.0.0.1", port: 0))
        #expect(AdminListen.defaultAddress(nodeListen: ["127.0.0.1:65000"]) == .tcp(host: "127.0.0.1", port: 0))
        #expect(AdminListen.defaultAddress(nodeListen: []) == .tcp(host: "127.0.0.1", port: 0))
    }
}
