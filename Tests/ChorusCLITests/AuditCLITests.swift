import Foundation
import Testing

/// `chorus audit` on a report with proof re-checks (as `chorusd run --verify-only --model` writes
/// them): the section is printed, a re-check the final table contradicts is shown and makes the
/// exit status 1, and `--json` carries the re-checks.
@Suite struct AuditCLITests {
    static func recheck(participant: String, verdict: String, mismatches: Int, accepted: Bool) -> [String: Any] {
        ["participant": participant, "model": "chorus/synthetic-devnet", "commit": String(repeating: "c", count: 64), "count": 500,
         "samples": 100, "proofs_verified": 100, "mismatches": mismatches, "verdict": verdict, "outcome": "checked",
         "sample_proof": String(repeating: "5", count: 128), "duration_ms": 12.5, "table_accepted": accepted,
         "agrees": (verdict == "valid") == accepted]
    }

    static func report(rechecks: [[String: Any]], divergences: [[String: String]]) -> [String: Any] {
        let digest = String(repeating: "d", count: 64)
        return ["epoch": 1, "network_id": "chorus-devnet", "role": "verify-only", "generated_unix_ms": 0, "matches": true, "final": true,
                "own_table_digest": digest, "certified_digest": digest, "table": [], "certificate_signers": [], "signer_share": 1.0,
                "threshold": "2/3", "divergences": divergences, "statement_counts": [:] as [String: Int], "reveals": 0,
                "non_revealers": [], "equivocators": [], "models": ["chorus/synthetic-devnet"], "proof_rechecks": rechecks]
    }

    @Test func proofRechecksArePrintedAndADisagreementFails() throws {
        let dir = try TemporaryDirectoryForTests()
        try FileManager.default.createDirectory(atPath: dir.file("audit"), withIntermediateDirectories: true)
        let honest = String(repeating: "a", count: 64), faker = String(repeating: "f", count: 64)
        func write(_ report: [String: Any]) throws {
            try JSONSerialization.data(withJSONObject: report).write(to: URL(fileURLWithPath: dir.file("audit/epoch-1.json")))
        }

        try write(Self.report(rechecks: [Self.recheck(participant: honest, verdict: "valid", mismatches: 0, accepted: true),
                                         Self.recheck(participant: faker, verdict: "invalid", mismatches: 40, accepted: false)], divergences: []))
        let agreeing = try ChorusBinaryForTests.run(["--data-dir", dir.path, "audit", "1"])
        #expect(agreeing.status == 0, "\(agreeing.stderr)")
        #expect(agreeing.stdout.contains("proof re-checks"))
        #expect(agreeing.stdout.contains("invalid (40/100 mismatched)  table rejected  agrees"))
        let json = try ChorusBinaryForTests.run(["--data-dir", dir.path, "audit", "1", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["proof_rechecks"] as? [[String: Any]])?.count == 2)

        // The table accepted what the auditor found fraudulent.
        try write(Self.report(rechecks: [Self.recheck(participant: faker, verdict: "invalid", mismatches: 40, accepted: true)],
                              divergences: [["what": "proof re-check of ffffffffffffffff for chorus/synthetic-devnet",
                                             "own": "invalid: 40 of 100 samples mismatched (checked)", "certified": "accepted by the final table"]]))
        let disagreeing = try ChorusBinaryForTests.run(["--data-dir", dir.path, "audit", "1"])
        #expect(disagreeing.status == 1)
        #expect(disagreeing.stdout.contains("DISAGREES"))
        #expect(disagreeing.stdout.contains("own invalid: 40 of 100 samples mismatched (checked) vs certified accepted by the final table"))
    }
}
