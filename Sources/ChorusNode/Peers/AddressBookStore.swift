import ChorusCrypto
import ChorusMesh
import ChorusStore
import ChorusWire

/// The address book in LMDB (table `address-book`) and its secret bucket key (in `meta`), so a
/// restarted node keeps its eclipse-resistant view of the network instead of starting over.
///
/// Times are stored as Unix seconds and mapped back onto the node's monotonic clock at load.
public struct AddressBookStore: Sendable {
    static let keyName = "address-book-key"
    static let recordSeqName = "peer-record-seq"
    static let anchorsName = "anchors"

    private let environment: StoreEnvironment
    private let writer: StorageWriter
    private let table: Table<[UInt8], [UInt8]>
    private let meta: Table<String, [UInt8]>

    public init(environment: StoreEnvironment, writer: StorageWriter) throws(StoreError) {
        self.environment = environment
        self.writer = writer
        table = try environment.table(NodeSchema.addressBook)
        meta = try environment.metaTable()
    }

    /// The bucket key (created and saved on first use) and the saved entries. `now`/`unixNow`
    /// anchor the conversion of stored Unix times to the node's monotonic clock. Undecodable
    /// entries are skipped.
    @available(*, noasync, message: "runs LMDB transactions; call from a thread, not a task")
    public func load(now: MonotonicTime, unixNow: UInt64) throws(StoreError) -> (key: Bytes32, entries: [AddressBook.Entry]) {
        let key: Bytes32 = try environment.write { (txn: borrowing WriteTransaction) throws(StoreError) -> Bytes32 in
            if let saved = try meta.get(Self.keyName, in: txn), let key = Bytes32(saved) { return key }
            let key = SecureRandom.bytes32()
            try meta.put(Self.keyName, key.bytes, in: txn)
            return key
        }
        var entries: [AddressBook.Entry] = []
        try environment.read { (txn: borrowing ReadTransaction) throws(StoreError) in
            try table.scan(in: txn) { (_: [UInt8], value: [UInt8]) -> ScanControl in
                if let entry = try? Self.decode(value, now: now, unixNow: unixNow) { entries.append(entry) }
                return .continue
            }
        }
        return (key, entries)
    }

    /// The `seq` for this run's own peer record: above every seq this store handed out before and
    /// at least `floor` (Unix milliseconds), so records rise across restarts even if the clock
    /// went back. Saved before it is returned.
    @available(*, noasync, message: "runs an LMDB write transaction; call from a thread, not a task")
    public func nextRecordSequence(floor: UInt64) throws(StoreError) -> UInt64 {
        try environment.write { (txn: borrowing WriteTransaction) throws(StoreError) -> UInt64 in
            let saved = try meta.get(Self.recordSeqName, in: txn).flatMap { bytes -> UInt64? in
                guard bytes.count == 8 else { return nil }
                return bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            } ?? 0
            let next = max(saved &+ 1, floor)
            try meta.put(Self.recordSeqName, (0..<8).map { UInt8(truncatingIfNeeded: next >> (8 * $0)) }, in: txn)
            return next
        }
    }

    /// Takes the anchors saved by the previous run (and forgets them, as Bitcoin Core deletes
    /// anchors.dat on reading, so a node that keeps crashing does not keep dialing the same peers).
    @available(*, noasync, message: "runs an LMDB write transaction; call from a thread, not a task")
    public func takeAnchors() throws(StoreError) -> [(NetAddress, Ed25519.PublicKey)] {
        let saved: [UInt8]? = try environment.write { (txn: borrowing WriteTransaction) throws(StoreError) -> [UInt8]? in
            let bytes = try meta.get(Self.anchorsName, in: txn)
            if bytes != nil { try meta.put(Self.anchorsName, Self.encodeAnchors([]), in: txn) }
            return bytes
        }
        return saved.flatMap { try? Self.decodeAnchors($0) } ?? []
    }

    /// Saves the outbound peers to dial first at the next start (one batch on the storage thread).
    public func saveAnchors(_ anchors: [(NetAddress, Ed25519.PublicKey)]) {
        var batch = WriteBatch()
        batch.put(Self.anchorsName, Self.encodeAnchors(anchors), into: meta)
        writer.submit(batch) { _ in }
    }

    /// `version u8 = 1 ‖ array<{address string ≤ 64, identity bytes[32]}> ≤ 16`.
    static func encodeAnchors(_ anchors: [(NetAddress, Ed25519.PublicKey)]) -> [UInt8] {
        var w = WireWriter()
        w.writeU8(1)
        w.writeArray(anchors.prefix(16)) { w, anchor in
            w.writeString(anchor.0.description)
            w.writePublicKey(anchor.1)
        }
        return w.bytes
    }

    static func decodeAnchors(_ bytes: [UInt8]) throws -> [(NetAddress, Ed25519.PublicKey)] {
        var r = WireReader(bytes)
        guard try r.readU8(field: "anchors.version") == 1 else {
            throw WireError.unknownVersion(what: "anchors", version: 0, highestKnown: 1)
        }
        let list = try r.readArray(field: "anchors", maxCount: 16, minElementSize: 36) {
            (r: inout WireReader) throws(WireError) -> (String, Ed25519.PublicKey) in
            (try r.readString(field: "anchors.address", maxLength: 64), try r.readPublicKey(field: "anchors.identity"))
        }
        try r.finish()
        return try list.map { (try NetAddress(parsing: $0.0), $0.1) }
    }

    /// Writes `entries` and deletes `removed` addresses, in one batch on the storage thread.
    public func save(_ entries: [AddressBook.Entry], removed: [NetAddress], now: MonotonicTime, unixNow: UInt64) {
        var batch = WriteBatch()
        for address in removed { batch.delete(Array(address.description.utf8), from: table) }
        for entry in entries { batch.put(Array(entry.address.description.utf8), Self.encode(entry, now: now, unixNow: unixNow), into: table) }
        writer.submit(batch) { _ in }
    }

    /// `version u8 = 1 ‖ address string ‖ identity optional<bytes[32]> ‖ source string ‖ last_heard u64 ‖
    /// last_success optional<u64> ‖ last_attempt optional<u64> ‖ failures u32 ‖ tried bool` (times in Unix seconds).
    static func encode(_ e: AddressBook.Entry, now: MonotonicTime, unixNow: UInt64) -> [UInt8] {
        func unix(_ t: MonotonicTime) -> UInt64 { unixNow &- min(unixNow, now.since(t).nanoseconds / 1_000_000_000) }
        var w = WireWriter()
        w.writeU8(1)
        w.writeString(e.address.description)
        w.writeOptional(e.identity) { $0.writePublicKey($1) }
        w.writeString(NetAddress(host: e.source, port: 0).description)
        w.writeU64(unix(e.lastHeard))
        w.writeOptional(e.lastSuccess.map(unix)) { $0.writeU64($1) }
        w.writeOptional(e.lastAttempt.map(unix)) { $0.writeU64($1) }
        w.writeU32(UInt32(clamping: e.failures))
        w.writeBool(e.tried)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], now: MonotonicTime, unixNow: UInt64) throws -> AddressBook.Entry {
        func mono(_ unix: UInt64) -> MonotonicTime {
            let age = (unixNow > unix ? unixNow - unix : 0).multipliedReportingOverflow(by: 1_000_000_000)
            return MonotonicTime(nanoseconds: age.overflow || age.partialValue > now.nanoseconds ? 0 : now.nanoseconds - age.partialValue)
        }
        var r = WireReader(bytes)
        guard try r.readU8(field: "address.version") == 1 else {
            throw WireError.unknownVersion(what: "address book entry", version: 0, highestKnown: 1)
        }
        let address = try NetAddress(parsing: try r.readString(field: "address.address", maxLength: 64))
        let identity = try r.readOptional(field: "address.identity") { (r: inout WireReader) throws(WireError) in try r.readPublicKey(field: "address.identity") }
        let source = try NetAddress(parsing: try r.readString(field: "address.source", maxLength: 64)).host
        let lastHeard = mono(try r.readU64(field: "address.last_heard"))
        let lastSuccess = try r.readOptional(field: "address.last_success") { (r: inout WireReader) throws(WireError) in try r.readU64(field: "t") }.map(mono)
        let lastAttempt = try r.readOptional(field: "address.last_attempt") { (r: inout WireReader) throws(WireError) in try r.readU64(field: "t") }.map(mono)
        let failures = Int(try r.readU32(field: "address.failures"))
        let tried = try r.readBool(field: "address.tried")
        try r.finish()
        return AddressBook.Entry(address: address, identity: identity, source: source, lastHeard: lastHeard,
                                 lastSuccess: lastSuccess, lastAttempt: lastAttempt, failures: failures, tried: tried)
    }
}
