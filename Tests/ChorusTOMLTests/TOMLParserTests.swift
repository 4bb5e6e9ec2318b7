import ChorusTOML
import Foundation
import Testing

/// The TOML reader against the forms TOML 1.0 defines and the inputs that aborted the C++ parser
/// it replaced (found by `chorus-fuzz network-file`).
@Suite struct TOMLParserTests {
    @Test func readsTheDevnetNetworkFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml").path
        let root = try TOMLParser.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(root["network_id"]?.string == "chorus-devnet")
        #expect(root["genesis_time"]?.dateTime?.offsetMinutes == 0)
        #expect(root["delegation"]?.table?["refusal_penalty"]?.floatLiteral == "0.10")
        #expect(root["models"]?.array?.count == 2)
        #expect(root["models"]?.array?.first?.table?["seq_len"]?.int == 8)
        #expect(root["participants"]?.array?.count == 5)
    }

    @Test func valuesOfEveryKind() throws {
        let root = try TOMLParser.parse(#"""
            # a comment
            s = "tab\tquote\" \u00e9 \U0001F600"   # trailing comment
            l = 'C:\path'
            ml = """
            one \
              two"""
            mll = '''
            raw \n'''
            i = +1_000
            h = 0xff
            o = 0o17
            b = 0b101
            neg = -42
            f = 6.626e-34
            g = -0.5
            inf = -inf
            t = true
            odt = 1979-05-27T07:32:00.999-07:30
            ldt = 1979-05-27 07:32:00
            ld = 1979-05-27
            lt = 07:32:00
            arr = [ 1, [2, "x"], { a = 1 }, ]
            multi = [
              "a", # comment
              "b",
            ]
            inline = { x = 1, y.z = "w" }
            a.b.c = 1
            "quoted key" = 2
            [table.sub]
            k = "v"
            [[list]]
            n = 1
            [[list]]
            n = 2
            [list.inner]
            m = 3
            """#)
        #expect(root["s"]?.string == "tab\tquote\" é 😀")
        #expect(root["l"]?.string == #"C:\path"#)
        #expect(root["ml"]?.string == "one two")
        #expect(root["mll"]?.string == #"raw \n"#)
        #expect(root["i"]?.int == 1000 && root["h"]?.int == 255 && root["o"]?.int == 15 && root["b"]?.int == 5 && root["neg"]?.int == -42)
        #expect(root["f"]?.floatLiteral == "6.626e-34" && root["g"]?.floatLiteral == "-0.5" && root["inf"]?.floatLiteral == "-inf")
        #expect(root["t"]?.bool == true)
        let odt = try #require(root["odt"]?.dateTime)
        #expect(odt.year == 1979 && odt.hour == 7 && odt.nanosecond == 999_000_000 && odt.offsetMinutes == -450)
        #expect(root["ldt"]?.dateTime?.offsetMinutes == nil && root["ldt"]?.dateTime?.minute == 32)
        #expect(root["ld"]?.dateTime?.day == 27 && root["ld"]?.dateTime?.hour == nil)
        #expect(root["lt"]?.dateTime?.year == nil && root["lt"]?.dateTime?.second == 0)
        #expect(root["arr"]?.array?.count == 3)
        #expect(root["multi"]?.array?.compactMap(\.string) == ["a", "b"])
        #expect(root["inline"]?.table?["y"]?.table?["z"]?.string == "w")
        #expect(root["a"]?.table?["b"]?.table?["c"]?.int == 1)
        #expect(root["quoted key"]?.int == 2)
        #expect(root["table"]?.table?["sub"]?.table?["k"]?.string == "v")
        let list = try #require(root["list"]?.array)
        #expect(list.count == 2 && list[1].table?["inner"]?.table?["m"]?.int == 3)
    }

    @Test(arguments: [
        ("a = 1\na = 2", "defined twice"),
        ("[t]\n[t]", "defined twice"),
        ("a = 1\n[a]", "already a value"),
        ("x = { a = 1 }\n[x]", "inline table"),
        ("a = \"unclosed", "not closed"),
        ("a = 01", "leading zeros"),
        ("a = 1__0", "underscore"),
        ("a = 99999999999999999999", "64-bit"),
        ("a = 1979-02-30T00:00:00Z", "not a valid date"),
        ("a = [1, 2", "expected ',' or ']'"),
        ("a = bare", "not a value"),
        ("a = 1 b = 2", "end of the line"),
        ("a = \"\\x\"", "unknown escape"),
        ("a = \"\\uD800\"", "Unicode scalar"),
        // Inputs that aborted toml++ inside the old dependency (fuzzing):
        ("[\u{7}", "expected a key"),
        ("[é]", "expected a key"),
        ("[[ :x]]", "expected a key"),
        ("m=2026-01-01T:", "not a valid date"),
    ])
    func malformedInputIsAnErrorWithItsPlace(text: String, reason: String) {
        do {
            _ = try TOMLParser.parse(text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.reason.contains(reason), "\(text.debugDescription): \(error)")
            #expect(error.line >= 1 && error.column >= 1)
        }
    }

    @Test func deepNestingIsRefusedNotAStackOverflow() {
        let deep = "a = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: TOMLError.self) { _ = try TOMLParser.parse(deep) }
    }

    /// Random bytes never crash the reader (the fuzzer runs this at scale).
    @Test func randomBytesEndInATableOrAnError() {
        var state: UInt64 = 0x5EED
        for length in 0..<400 {
            let bytes = (0..<length).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let pick = UInt8(truncatingIfNeeded: state >> 56)
                return Array("[]{}=\".'#\n ,abc019-:TZ+_\\e".utf8)[Int(pick) % 26]
            }
            _ = try? TOMLParser.parse(String(decoding: bytes, as: UTF8.self))
        }
    }
}
