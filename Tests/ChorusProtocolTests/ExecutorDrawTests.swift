import ChorusCrypto
import Foundation
import Testing
@testable import ChorusProtocol

/// The executor draw against vectors computed independently in Python (Tools/vectors/executor_draw.py).
@Suite struct ExecutorDrawTests {
    struct Vectors: Decodable {
        struct Member: Decodable { let participant: String; let weight: UInt64 }
        struct Case: Decodable {
            let request_id: String
            let attempt: UInt32
            let excluded: [String]
            let value: String
            let executor: String?
        }
        let group: [Member]
        let cases: [Case]
    }

    @Test func matchesTheVectors() throws {
        let v = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: RepositoryPathsForTests.vector("executor-draw.json")))
        let group = try v.group.map { ExecutorDraw.Candidate(participant: try Bytes32(hex: $0.participant), weight: $0.weight) }
        #expect(v.cases.count == 24)
        for c in v.cases {
            let id = try Bytes32(hex: c.request_id)
            #expect(ExecutorDraw.value(requestID: id, attempt: c.attempt) == UInt64(c.value))
            let excluded = Set(try c.excluded.map { try Bytes32(hex: $0) })
            #expect(ExecutorDraw.draw(requestID: id, attempt: c.attempt, from: group, excluding: excluded)?.hex == c.executor)
        }
    }

    /// Over many request ids each member is drawn in proportion to its weight; a member with no
    /// weight or excluded never is.
    @Test func drawsInProportionToWeight() {
        let members = (0..<4).map { Bytes32(Array(repeating: UInt8($0 + 1), count: 32))! }
        let group = zip(members, [1, 3, 0, 6] as [UInt64]).map { ExecutorDraw.Candidate(participant: $0, weight: $1) }
        var counts: [Bytes32: Int] = [:]
        for n in 0..<10_000 {
            let id = Blake2b.hash256(Array("r\(n)".utf8))
            counts[ExecutorDraw.draw(requestID: id, attempt: 0, from: group)!, default: 0] += 1
        }
        #expect(counts[members[2]] == nil)
        #expect((900...1_100).contains(counts[members[0], default: 0]))
        #expect((2_800...3_200).contains(counts[members[1], default: 0]))
        #expect((5_800...6_200).contains(counts[members[3], default: 0]))
        #expect(ExecutorDraw.draw(requestID: Bytes32.zero, attempt: 0, from: group, excluding: [members[0], members[1], members[3]]) == nil)
        let huge = [ExecutorDraw.Candidate(participant: members[0], weight: .max), ExecutorDraw.Candidate(participant: members[1], weight: 2)]
        #expect(ExecutorDraw.draw(requestID: Bytes32.zero, attempt: 0, from: huge) == nil)
    }
}
