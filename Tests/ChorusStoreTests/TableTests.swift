import ChorusCrypto
import ChorusStore
import Testing

@Suite struct TableTests {
    let directory = TemporaryDirectoryForTests("tables")

    func open(_ tables: [String] = ["items", "epochs", "topics", "texts"]) throws -> StoreEnvironment {
        try StoreEnvironment.open(
            at: directory.path, schema: StoreSchema(tables: tables), options: StoreOptions(initialMapSize: 4 << 20))
    }

    @Test func putGetDeleteRoundTrip() throws {
        let environment = try open()
        let items: Table<Bytes32, [UInt8]> = try environment.table("items")
        let id = Blake2b.hash256(Array("hello".utf8))
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try items.put(id, [1, 2, 3], in: transaction)
            #expect(try items.get(id, in: transaction) == [1, 2, 3])  // a write sees its own changes
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try items.get(id, in: transaction) == [1, 2, 3])
            #expect(try items.getBytes(id, in: transaction) == [1, 2, 3])
            #expect(try items.contains(id, in: transaction))
            #expect(try items.get(.zero, in: transaction) == nil)
            #expect(try items.count(in: transaction) == 1)
            let sum = try items.withValue(id, in: transaction) { (bytes: UnsafeRawBufferPointer) in
                bytes.reduce(0) { $0 + Int($1) }
            }
            #expect(sum == 6)
        }
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try items.put(id, [9], in: transaction)  // replaces
            #expect(try items.get(id, in: transaction) == [9])
            #expect(try items.delete(id, in: transaction))
            #expect(try !items.delete(id, in: transaction))
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try items.get(id, in: transaction) == nil)
            #expect(try items.count(in: transaction) == 0)
        }
    }

    @Test func insertKeepsExistingValue() throws {
        let environment = try open()
        let texts: Table<String, String> = try environment.table("texts")
        let results = try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            [try texts.insert("k", "first", in: transaction), try texts.insert("k", "second", in: transaction)]
        }
        #expect(results == [true, false])
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try texts.get("k", in: transaction) == "first")
        }
    }

    @Test func uint64KeysIterateInNumericOrder() throws {
        let environment = try open()
        let epochs: Table<UInt64, String> = try environment.table("epochs")
        var generator = SeededGeneratorForTests(seed: 7)
        // Values around byte boundaries, where a little-endian encoding would sort wrongly.
        var numbers: [UInt64] = [0, 1, 255, 256, 257, 65_535, 65_536, 1 << 32, (1 << 32) - 1, .max, .max - 1]
        for _ in 0..<200 { numbers.append(UInt64.random(in: 0 ... .max, using: &generator)) }
        numbers = Array(Set(numbers)).shuffled(using: &generator)
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for number in numbers { try epochs.put(number, "\(number)", in: transaction) }
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            var seen: [UInt64] = []
            try epochs.scan(in: transaction) { key, value in
                #expect(value == "\(key)")
                seen.append(key)
                return .continue
            }
            #expect(seen == numbers.sorted())
            let backwards = try epochs.entries(prefix: [UInt8](), in: transaction, reverse: true).map(\.key)
            #expect(backwards == numbers.sorted().reversed())
        }
    }

    @Test func rangeScanIsHalfOpenInBothDirections() throws {
        let environment = try open()
        let epochs: Table<UInt64, UInt64> = try environment.table("epochs")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for number in stride(from: UInt64(0), to: 100, by: 10) { try epochs.put(number, number * 2, in: transaction) }
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try epochs.entries(from: 20, to: 50, in: transaction).map(\.key) == [20, 30, 40])
            #expect(try epochs.entries(from: 15, to: 50, in: transaction).map(\.value) == [40, 60, 80])
            #expect(try epochs.entries(from: 20, to: 50, in: transaction, reverse: true).map(\.key) == [40, 30, 20])
            #expect(try epochs.entries(from: 21, to: 49, in: transaction, reverse: true).map(\.key) == [40, 30])
            #expect(try epochs.entries(from: nil, to: 20, in: transaction).map(\.key) == [0, 10])
            #expect(try epochs.entries(from: 80, to: nil, in: transaction).map(\.key) == [80, 90])
            #expect(try epochs.entries(from: nil, to: nil, in: transaction, reverse: true, limit: 2).map(\.key) == [90, 80])
            #expect(try epochs.entries(from: 95, to: nil, in: transaction).isEmpty)
            #expect(try epochs.entries(from: 50, to: 50, in: transaction).isEmpty)
        }
    }

    @Test func compositeKeysScanByPrefix() throws {
        let environment = try open()
        typealias Key = CompositeKey<Bytes32, CompositeKey<UInt64, Bytes32>>
        let topics: Table<Key, [UInt8]> = try environment.table("topics")
        let topicA = Blake2b.hash256(Array("a".utf8))
        let topicB = Blake2b.hash256(Array("b".utf8))
        let ids = (0..<6).map { Blake2b.hash256([UInt8($0)]) }
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for (index, id) in ids.enumerated() {
                try topics.put(Key(topicA, CompositeKey(UInt64(index % 3), id)), [UInt8(index)], in: transaction)
                try topics.put(Key(topicB, CompositeKey(UInt64(index), id)), [UInt8(index)], in: transaction)
            }
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            let inA = try topics.entries(prefix: topicA, in: transaction)
            #expect(inA.count == 6)
            #expect(inA.allSatisfy { $0.key.first == topicA })
            #expect(inA.map(\.key.second.first) == [0, 0, 1, 1, 2, 2])

            let epochOne = try topics.entries(prefix: CompositeKey(topicA, UInt64(1)), in: transaction)
            #expect(Set(epochOne.map(\.key.second.second)) == [ids[1], ids[4]])

            let newestInB = try topics.entries(prefix: topicB, in: transaction, reverse: true, limit: 1)
            #expect(newestInB.first?.key.second.first == 5)

            #expect(try topics.entries(prefix: CompositeKey(topicA, UInt64(7)), in: transaction).isEmpty)
            #expect(try topics.count(in: transaction) == 12)
        }
    }

    @Test func reversePrefixScanHandlesAllOnesPrefix() throws {
        let environment = try open()
        let items: Table<[UInt8], [UInt8]> = try environment.table("items")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for key: [UInt8] in [[0xFE], [0xFF], [0xFF, 0x00], [0xFF, 0xFF], [0xFF, 0xFF, 0x01]] {
                try items.put(key, key, in: transaction)
            }
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            let forward = try items.entries(prefix: [UInt8]([0xFF]), in: transaction).map(\.key)
            #expect(forward == [[0xFF], [0xFF, 0x00], [0xFF, 0xFF], [0xFF, 0xFF, 0x01]])
            let backward = try items.entries(prefix: [UInt8]([0xFF, 0xFF]), in: transaction, reverse: true).map(\.key)
            #expect(backward == [[0xFF, 0xFF, 0x01], [0xFF, 0xFF]])
            let middle = try items.entries(prefix: [UInt8]([0xFE]), in: transaction, reverse: true).map(\.key)
            #expect(middle == [[0xFE]])
        }
    }

    @Test func scanStopsWhenAsked() throws {
        let environment = try open()
        let epochs: Table<UInt64, UInt64> = try environment.table("epochs")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for number in UInt64(0)..<50 { try epochs.put(number, number, in: transaction) }
        }
        var visited = 0
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            try epochs.scan(in: transaction) { _, _ in
                visited += 1
                return visited == 5 ? .stop : .continue
            }
        }
        #expect(visited == 5)
    }

    @Test func removeAllEmptiesTheTable() throws {
        let environment = try open()
        let epochs: Table<UInt64, UInt64> = try environment.table("epochs")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            for number in UInt64(0)..<10 { try epochs.put(number, number, in: transaction) }
            try epochs.removeAll(in: transaction)
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try epochs.count(in: transaction) == 0)
        }
    }

    @Test func malformedStoredBytesThrowInsteadOfTrapping() throws {
        let environment = try open()
        let raw: Table<String, [UInt8]> = try environment.table("texts")
        let asText: Table<String, String> = try environment.table("texts")
        let asNumber: Table<String, UInt64> = try environment.table("texts")
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try raw.put("bad", [0xFF, 0xFE, 0x00], in: transaction)
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(throws: StoreError.self) { _ = try asText.get("bad", in: transaction) }
            #expect(throws: StoreError.self) { _ = try asNumber.get("bad", in: transaction) }
        }
    }

    @Test func oversizedAndEmptyKeysAreErrors() throws {
        let environment = try open()
        let items: Table<[UInt8], [UInt8]> = try environment.table("items")
        let error = #expect(throws: StoreError.self) {
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put([UInt8](repeating: 1, count: 600), [1], in: transaction)
            }
        }
        #expect(error?.description.contains("MDB_BAD_VALSIZE") == true)
        #expect(throws: StoreError.self) {
            try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
                try items.put([], [1], in: transaction)
            }
        }
    }

    @Test func unknownTableIsAClearError() throws {
        let environment = try open()
        #expect(throws: StoreError.unknownTable(path: directory.path, name: "nope")) {
            let _: Table<UInt64, UInt64> = try environment.table("nope")
        }
        #expect(environment.tableNames == ["epochs", "items", "meta", "texts", "topics"])
    }

    @Test func writeBatchAppliesPutsAndDeletesInOrder() throws {
        let environment = try open()
        let epochs: Table<UInt64, String> = try environment.table("epochs")
        let texts: Table<String, String> = try environment.table("texts")
        var batch = WriteBatch()
        batch.put(1, "one", into: epochs)
        batch.put(2, "two", into: epochs)
        batch.delete(1, from: epochs)
        batch.put("k", "v", into: texts)
        #expect(batch.count == 4)
        try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
            try batch.apply(in: transaction)
        }
        try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
            #expect(try epochs.entries(prefix: [UInt8](), in: transaction).map(\.value) == ["two"])
            #expect(try texts.get("k", in: transaction) == "v")
        }
    }
}
