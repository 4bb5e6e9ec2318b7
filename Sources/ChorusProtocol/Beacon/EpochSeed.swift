public import ChorusCrypto
import ChorusWire

/// One revealed beacon secret.
public struct BeaconReveal: Sendable, Hashable {
    public let author: Bytes32
    public let reveal: Bytes32

    public init(author: Bytes32, reveal: Bytes32) {
        self.author = author
        self.reveal = reveal
    }
}

/// What a sub-seed is for. Each use gets its own label so that no value derived for one purpose
/// can be replayed or predicted from another.
public enum SeedPurpose: String, Sendable, CaseIterable {
    /// Keys of the PoC kernel (`seed` in Specs/poc-kernel.md §3).
    case generation
    /// Choosing the confirmation PoC windows of the inference stage.
    case confirmation
    /// Seeded choices of inference routing.
    case routing
}

/// An epoch's beacon output: `H("chorus/beacon/seed/1\0" ‖ network ‖ epoch ‖ previous table
/// digest ‖ reveals sorted by author)`. Including the previous epoch's final table digest makes
/// the seed depend on agreed history; the reveals make it unpredictable until the reveal window.
public struct EpochSeed: Sendable, Hashable, CustomStringConvertible {
    public let value: Bytes32

    public init(value: Bytes32) { self.value = value }

    /// `reveals` may come in any order; they are sorted by author and must be distinct authors.
    public init(networkID: String, epoch: UInt64, previousTableDigest: Bytes32, reveals: [BeaconReveal]) throws(ProtocolError) {
        let sorted = reveals.sorted { $0.author < $1.author }
        for i in sorted.indices.dropFirst() where sorted[i - 1].author == sorted[i].author {
            throw .beaconMismatch(reason: "two reveals by \(sorted[i].author.hex) in one seed")
        }
        var w = WireWriter()
        w.writeRaw(Array("chorus/beacon/seed/1\0".utf8))
        w.writeString(networkID)
        w.writeU64(epoch)
        w.writeBytes32(previousTableDigest)
        w.writeArray(sorted) { w, r in
            w.writeBytes32(r.author)
            w.writeBytes32(r.reveal)
        }
        value = Blake2b.hash256(w.bytes)
    }

    /// `H("chorus/beacon/sub/1\0" ‖ str(purpose) ‖ seed)`.
    public func subSeed(_ purpose: SeedPurpose) -> Bytes32 {
        var w = WireWriter()
        w.writeRaw(Array("chorus/beacon/sub/1\0".utf8))
        w.writeString(purpose.rawValue)
        w.writeBytes32(value)
        return Blake2b.hash256(w.bytes)
    }

    public var description: String { "seed \(value.hex)" }
}
