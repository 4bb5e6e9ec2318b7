import Testing
@testable import ChorusNode

@Suite struct ConfigFileTests {
    @Test func templateParsesToTheDefaults() throws {
        let text = ConfigFile.template(networkID: "chorus-devnet", listen: "127.0.0.1:7701")
        let configuration = try ConfigFile.parse(text, file: "config.toml")
        var expected = NodeConfiguration(networkID: "chorus-devnet", listen: ["127.0.0.1:7701"])
        expected.seeds = []
        expected.allowPrivateAddresses = true  // the devnet's template allows loopback peers
        #expect(configuration == expected)
    }

    @Test func overridesAndTheGroupRuleSwitch() throws {
        let text = """
            network = "lab"
            listen = ["[::1]:0", "127.0.0.1:0"]
            advertise = "10.0.0.1:7700"
            seeds = ["10.0.0.2:7700"]
            [connections]
            inbound_per_group = 0
            handshake_timeout_ms = 750
            [session]
            max_message_bytes = 65536
            """
        let c = try ConfigFile.parse(text, file: "x.toml")
        #expect(c.networkID == "lab")
        #expect(c.listen == ["[::1]:0", "127.0.0.1:0"])
        #expect(c.advertise == "10.0.0.1:7700" && c.seeds == ["10.0.0.2:7700"])
        #expect(c.connections.inboundPerGroup == nil)
        #expect(c.connections.handshakeTimeout == .milliseconds(750))
        #expect(c.maxMessageSize == 65536)
    }

    @Test(arguments: [
        ("listen = [\"127.0.0.1:0\"]", "x.toml: network: missing; expected a string"),
        ("network = 5", "x.toml: network: expected a string, found int"),
        ("network = \"n\"\nlisten = \"127.0.0.1:0\"", "x.toml: listen: expected an array of strings"),
        ("network = \"n\"\nseeds = [\"localhost:80\"]", "invalid IPv4 address"),
        ("network = \"n\"\nmystery = 1", "x.toml: mystery: unknown setting"),
        ("network = \"n\"\n[connections]\noutbound_target = -1", "x.toml: connections.outbound_target: -1 is out of range"),
        ("network = \"n\"\n[session]\nidle_timeout = 5", "x.toml: session.idle_timeout: unknown setting"),
        ("network = \"n", "x.toml: not valid TOML at line 1"),
    ])
    func errorsNameTheFileTheKeyAndTheExpectation(text: String, message: String) {
        #expect {
            _ = try ConfigFile.parse(text, file: "x.toml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
