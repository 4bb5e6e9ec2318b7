import ChorusNetworkFile
import Testing

/// The network file's bootstrap keys: `seeds` and `allow_private_addresses` (Specs/network-file.md).
@Suite struct NetworkBootstrapTests {
    static let devnet = NetworkFileTests.devnetText
    static let policyLine = "allow_private_addresses = true\n"
    static let seedsLine = "seeds = []\n"

    @Test func devnetAllowsPrivateAddressesAndListsNoSeeds() throws {
        let (_, bootstrap) = try NetworkFile.parseDocument(Self.devnet, file: "devnet.toml")
        #expect(bootstrap == NetworkBootstrap(seeds: [], allowPrivateAddresses: true))
    }

    @Test func privateAddressesAreOffUnlessTheFileSaysOtherwise() throws {
        #expect(Self.devnet.contains(Self.policyLine) && Self.devnet.contains(Self.seedsLine))
        let text = Self.devnet.replacingOccurrences(of: Self.policyLine, with: "").replacingOccurrences(of: Self.seedsLine, with: "")
        let (parameters, bootstrap) = try NetworkFile.parseDocument(text, file: "public.toml")
        #expect(bootstrap == NetworkBootstrap(seeds: [], allowPrivateAddresses: false))
        // Bootstrap keys are not consensus parameters: the digest does not move.
        #expect(parameters.digest == (try NetworkFile.parse(Self.devnet, file: "devnet.toml")).digest)
    }

    @Test func seedsAreRead() throws {
        let text = Self.devnet.replacingOccurrences(of: Self.seedsLine, with: "seeds = [\"203.0.113.7:7700\", \"[2001:db8::7]:7700\"]\n")
        let (_, bootstrap) = try NetworkFile.parseDocument(text, file: "seeded.toml")
        #expect(bootstrap.seeds == ["203.0.113.7:7700", "[2001:db8::7]:7700"])
    }

    @Test(arguments: [
        ("seeds = [\"203.0.113.7\"]\n", "seeds[0]", "port"),
        ("seeds = [\"seed.example.org:7700\"]\n", "seeds[0]", "a.b.c.d:port"),
        ("seeds = [\"1.2.3.4:0\"]\n", "seeds[0]", "port"),
        ("seeds = [7700]\n", "seeds[0]", "a string"),
        ("seeds = \"1.2.3.4:7700\"\n", "seeds", "an array of strings"),
    ])
    func badSeedsNameTheKey(line: String, key: String, expected: String) {
        let text = Self.devnet.replacingOccurrences(of: Self.seedsLine, with: line)
        do {
            _ = try NetworkFile.parseDocument(text, file: "bad.toml")
            Issue.record("parsed \(line)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func policyMustBeABoolean() {
        let text = Self.devnet.replacingOccurrences(of: Self.policyLine, with: "allow_private_addresses = \"yes\"\n")
        #expect(throws: NetworkFileError.self) { try NetworkFile.parseDocument(text, file: "bad.toml") }
    }
}
