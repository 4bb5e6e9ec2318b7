import Testing
import ChorusNode

/// The config keys `chorusd run` reads for itself: logging and the API's request budget.
@Suite struct ConfigFileLoggingAndAPITests {
    @Test func logAndAPIKeysParse() throws {
        let text = """
            network = "lab"
            log_level = "debug"
            log_file = "chorusd.jsonl"
            log_file_max_bytes = 4096
            [api]
            requests_per_minute = 120
            burst = 10
            """
        let c = try ConfigFile.parse(text, file: "x.toml")
        #expect(c.logLevel == .debug)
        #expect(c.logFile == "chorusd.jsonl" && c.logFileMaxBytes == 4096)
        #expect(c.apiRequestsPerMinute == 120 && c.apiBurst == 10)

        let defaults = try ConfigFile.parse("network = \"lab\"", file: "x.toml")
        #expect(defaults.logLevel == nil && defaults.logFile == nil && defaults.logFileMaxBytes == 64 << 20)
        #expect(defaults.apiRequestsPerMinute == nil && defaults.apiBurst == nil)
    }

    @Test(arguments: [
        ("network = \"n\"\nlog_level = \"loud\"", "x.toml: log_level: \"loud\": expected one of trace, debug, info, notice, warning, error, critical"),
        ("network = \"n\"\nlog_file_max_bytes = 100", "x.toml: log_file_max_bytes: 100 is out of range; expected 4096..."),
        ("network = \"n\"\n[api]\nburst = 0", "x.toml: api.burst: 0 is out of range"),
        ("network = \"n\"\n[api]\nrate = 5", "x.toml: api.rate: unknown setting; expected one of burst, requests_per_minute"),
    ])
    func badValuesNameTheKey(text: String, message: String) {
        #expect {
            _ = try ConfigFile.parse(text, file: "x.toml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
