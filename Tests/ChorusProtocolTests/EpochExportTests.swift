import ChorusCrypto
import ChorusProtocol
import ChorusWire
import Foundation
import Testing

/// Epoch exports (Specs/export.md): an honest export of a generated epoch verifies from the file
/// alone; tampering with a signature, a statement, the base table or the certificate is caught.
@Suite struct EpochExportTests {
    typealias F = FixturesForTests

    /// Three epochs of the five-node devnet with delegations and a faker; exports of epoch 2 built
    /// from what was published, as a node's store holds it.
    static let generated: (export: EpochExport, finalDigest: String?) = {
        var net = EpochEngineRestartTests.network()
        net.fakers = ["2|\(F.synthetic)"]
        net.run(untilUnixMs: F.devnet.genesisUnixMs + 3 * Int64(F.devnet.stages.epochMs))
        return (export(net, epoch: 2), net.finals[0][2]?.table.digest.hex)
    }()

    static func export(_ net: InMemoryDevnetForTests, epoch: UInt64) -> EpochExport {
        let final = net.finals[0][epoch]
        return EpochExport(
            networkID: F.devnet.networkID, epoch: epoch, networkFile: nil, parametersDigest: F.devnet.digest,
            previousTable: net.finals[0][epoch - 1]!.table, statements: net.published.filter { $0.epoch == epoch },
            beaconCommits: net.published.filter { $0.epoch == epoch - 1 && $0.type == .beaconCommit },
            delegations: net.published.filter { $0.type == .delegation }, previousConfirmations: net.published.filter { $0.epoch == epoch - 1 },
            table: final?.table, certificate: final?.certificate)
    }

    @Test func honestExportMatchesAfterAJSONRoundTrip() throws {
        let export = Self.generated.export
        let data = try JSONEncoder().encode(export)
        let decoded = try JSONDecoder().decode(EpochExport.self, from: data)
        #expect(decoded == export)
        let result = decoded.verify(parameters: F.devnet)
        #expect(result.matches, "\(result.problems)")
        #expect(result.problems.isEmpty && result.badStatements == 0 && result.certificateValid)
        #expect(result.recomputedDigest == Self.generated.finalDigest)
        #expect(result.statementsChecked == export.statements.count + export.beaconCommits.count + export.delegations.count
                + export.previousConfirmations.count + export.certificate.count)
        #expect((result.countsByType["vote"] ?? 0) > 0 && (result.countsByType["poc-commit"] ?? 0) > 0)
        // The delegations in force: one per (author, model) declared at genesis.
        #expect(export.delegations.count == 2)
    }

    @Test func aForgedSignatureIsCaught() throws {
        var export = Self.generated.export
        var bytes = try Hex.decode(export.statements[0])
        bytes[bytes.count - 1] ^= 0x01
        export.statements[0] = Hex.encode(bytes)
        let result = export.verify(parameters: F.devnet)
        #expect(!result.matches)
        #expect(result.badStatements == 1)
    }

    @Test func droppedVotesChangeTheRecomputedTable() throws {
        var export = Self.generated.export
        export.statements = try export.statements.filter { try SignedStatement.decode(try Hex.decode($0)).type != .vote }
        let result = export.verify(parameters: F.devnet)
        #expect(!result.matches)
        #expect(result.badStatements == 0 && result.certificateValid)
        #expect(result.recomputedDigest != result.certifiedDigest)
        #expect(result.problems.contains { $0.contains("differs from the certified") })
    }

    @Test func aCertificateWithoutEnoughSignersFails() throws {
        var export = Self.generated.export
        export.certificate = Array(export.certificate.prefix(2))
        let result = export.verify(parameters: F.devnet)
        #expect(!result.matches && !result.certificateValid)
        #expect(result.problems.contains { $0.contains("certificate does not hold") })
    }

    /// The independent auditor saw a duplicated signer reported twice (1,291 of 1,233 voting weight).
    /// The certificate fails, and the report counts each signer once.
    @Test func aSignerListedTwiceFailsTheCertificateAndIsCountedOnce() throws {
        var export = Self.generated.export
        let honest = export.verify(parameters: F.devnet)
        export.certificate.append(export.certificate[0])
        let result = export.verify(parameters: F.devnet)
        #expect(!result.matches && !result.certificateValid)
        #expect(result.problems.contains { $0.contains("two signatures") })
        #expect(result.signers == honest.signers)
        #expect(result.signerVotingWeight == honest.signerVotingWeight)
        #expect(result.signerVotingWeight <= result.totalVotingWeight)
    }

    @Test func anotherBaseTableOrNetworkFails() throws {
        var export = Self.generated.export
        var genesisAsBase = WeightTable.genesis(F.devnet)
        genesisAsBase.epoch = 1
        export.previousTable = Hex.encode(genesisAsBase.encodedBytes())
        #expect(!export.verify(parameters: F.devnet).matches)
        var other = F.devnet
        other.voteThreshold = try Ratio(3, 4)
        #expect(!Self.generated.export.verify(parameters: other).matches)
    }
}
