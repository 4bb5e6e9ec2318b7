import ChorusMesh
import Testing
@testable import ChorusNode

/// The `role` and `served_models` settings that a node's signed peer record announces.
@Suite struct ConfigPeerRecordTests {
    @Test func roleAndModelsAreRead() throws {
        let config = try ConfigFile.parse("network = \"n\"\nrole = \"verify-only\"\nserved_models = [\"chorus/synthetic-devnet\"]", file: "x.toml")
        #expect(config.role == .verifyOnly)
        #expect(config.servedModels == ["chorus/synthetic-devnet"])
        let defaults = try ConfigFile.parse("network = \"n\"", file: "x.toml")
        #expect(defaults.role == .full && defaults.servedModels.isEmpty)
    }

    @Test(arguments: [
        ("network = \"n\"\nrole = \"validator\"", "role"),
        ("network = \"n\"\nserved_models = [\"\"]", "served_models"),
        ("network = \"n\"\nrole = 3", "role"),
        ("network = \"n\"\nserved_models = [\((0..<33).map { "\"m\($0)\"" }.joined(separator: ", "))]", "at most 32"),
    ])
    func badValuesNameTheKey(text: String, fragment: String) {
        do {
            _ = try ConfigFile.parse(text, file: "x.toml")
            Issue.record("parsed \(text)")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
    }
}
