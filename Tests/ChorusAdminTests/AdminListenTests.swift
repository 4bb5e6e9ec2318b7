import ChorusAdmin
import ChorusHTTP
import ChorusNode
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

    @Test func defaultIsLoopbackOnTheNodePortPlus2000() {
        #expect(AdminListen.defaultAddress(nodeListen: ["0.0.0.0:7700"]) == .tcp(host: "127.0.0.1", port: 9700))
        #expect(AdminListen.defaultAddress(nodeListen: ["127.0.0.1:0"]) == .tcp(host: "127.0.0.1", port: 0))
        #expect(AdminListen.defaultAddress(nodeListen: ["127.0.0.1:65000"]) == .tcp(host: "127.0.0.1", port: 0))
        #expect(AdminListen.defaultAddress(nodeListen: []) == .tcp(host: "127.0.0.1", port: 0))
    }
}

/// `admin_listen` in config.toml: read, and a typo refused at load with the forms it takes.
@Suite struct AdminListenConfigTests {
    @Test func readsAndValidatesAdminListen() throws {
        let base = "network = \"chorus-devnet\"\n"
        #expect(try ConfigFile.parse(base, file: "c.toml").adminListen == nil)
        #expect(try ConfigFile.parse(base + "admin_listen = \"127.0.0.1:9700\"\n", file: "c.toml").adminListen == "127.0.0.1:9700")
        #expect(try ConfigFile.parse(base + "admin_listen = \"off\"\n", file: "c.toml").adminListen == "off")
        #expect(try ConfigFile.parse(base + "admin_listen = \"unix:admin.sock\"\n", file: "c.toml").adminListen == "unix:admin.sock")
        #expect(throws: ConfigError.self) { try ConfigFile.parse(base + "admin_listen = \"9700\"\n", file: "c.toml") }
        do { _ = try ConfigFile.parse(base + "admin_listen = \"of\"\n", file: "c.toml") } catch {
            #expect(error.key == "admin_listen" && error.problem.contains("off"))
        }
        // The template's commented line parses when uncommented.
        let template = ConfigFile.template(networkID: "chorus-devnet", listen: "127.0.0.1:7700")
            .replacingOccurrences(of: "# admin_listen = ", with: "admin_listen = ")
        #expect(try ConfigFile.parse(template, file: "t.toml").adminListen == "127.0.0.1:9700")
    }
}
