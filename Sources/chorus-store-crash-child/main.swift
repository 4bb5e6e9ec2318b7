// A child process for ChorusStoreTests: it is killed with SIGKILL while writing, and the test then
// checks what survived. Not shipped. Modes:
//
//   write-batches DIR KEYS PAUSE_US
//                            writes batches 1, 2, 3, … (continuing after the last one in DIR) through
//                            a StorageWriter, each with KEYS entries, in bursts of 16 submitted at once
//                            (so the writer coalesces them) with PAUSE_US microseconds between bursts;
//                            prints each batch number on its own line once the batch is acknowledged;
//                            runs until killed.
//   hold-reader DIR          opens DIR, begins a read transaction, prints "ready", waits to be killed
//                            (leaves a stale reader slot behind).
//   fill DIR KIB             opens DIR with a 64 KiB initial map and writes KIB kibibytes, so the map
//                            grows in this process; prints "done" and exits.
//
// Batch layout (CrashBatchLayout in the tests must match): table "batches", key
// CompositeKey<UInt64, UInt32>(batch, index), value = batch (8 bytes, big-endian) ++ index (4 bytes,
// big-endian) ++ (batch + index) % 97 padding bytes equal to UInt8(truncatingIfNeeded: batch ^ index).

import ChorusStore
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let schema = StoreSchema(tables: ["batches", "fill"])

/// Writes one line to stdout with a single write(2), so a kill never leaves a line half-printed in a
/// buffer: what was printed is what the parent reads.
func printLine(_ text: String) {
    var line = Array((text + "\n").utf8)
    var offset = 0
    while offset < line.count {
        let written = line.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 { if errno == EINTR { continue }; exit(3) }
        offset += written
    }
}

func fail(_ message: String) -> Never {
    printLine("error: \(message)")
    exit(2)
}

func batchValue(_ batch: UInt64, _ index: UInt32) -> [UInt8] {
    var value = batch.storeBytes + index.storeBytes
    let padding = Int((batch + UInt64(index)) % 97)
    value += [UInt8](repeating: UInt8(truncatingIfNeeded: batch ^ UInt64(index)), count: padding)
    return value
}

func writeBatches(directory: String, keysPerBatch: Int, pauseMicroseconds: UInt32) throws(StoreError) -> Never {
    let environment = try StoreEnvironment.open(
        at: directory, schema: schema,
        options: StoreOptions(initialMapSize: 256 << 10, maximumMapSize: 1 << 30))
    let table: Table<CompositeKey<UInt64, UInt32>, [UInt8]> = try environment.table("batches")
    var last: UInt64 = 0
    try environment.read { (transaction: borrowing ReadTransaction) throws(StoreError) in
        try table.scan(in: transaction, reverse: true) { key, _ in
            last = key.first
            return .stop
        }
    }
    let writer = try StorageWriter(environment: environment)
    let burst = 16
    let inFlight = DispatchSemaphore(value: burst)
    var number = last + 1
    while true {
        inFlight.wait()
        if number % UInt64(burst) == 0 { usleep(pauseMicroseconds) }
        var batch = WriteBatch()
        for index in 0..<UInt32(keysPerBatch) {
            batch.put(CompositeKey(number, index), batchValue(number, index), into: table)
        }
        let acknowledged = number
        writer.submit(batch) { result in
            switch result {
            case .success: printLine("\(acknowledged)")
            case .failure(let error): fail("batch \(acknowledged): \(error)")
            }
            inFlight.signal()
        }
        number += 1
    }
}

func holdReader(directory: String) throws(StoreError) -> Never {
    let environment = try StoreEnvironment.open(at: directory, schema: schema)
    try environment.read { (_: borrowing ReadTransaction) -> Never in
        printLine("ready")
        while true { pause() }
    }
}

func fill(directory: String, kibibytes: Int) throws(StoreError) {
    let environment = try StoreEnvironment.open(
        at: directory, schema: schema, options: StoreOptions(initialMapSize: 64 << 10, maximumMapSize: 1 << 30))
    let table: Table<UInt64, [UInt8]> = try environment.table("fill")
    let chunk = [UInt8](repeating: 0xA5, count: 1024)
    try environment.write { (transaction: borrowing WriteTransaction) throws(StoreError) in
        for index in 0..<UInt64(kibibytes) { try table.put(index, chunk, in: transaction) }
    }
    printLine("done mapSize=\(environment.mapSize)")
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: chorus-store-crash-child write-batches|hold-reader|fill DIR …") }
do throws(StoreError) {
    switch arguments[1] {
    case "write-batches":
        guard arguments.count == 5, let keys = Int(arguments[3]), let pause = UInt32(arguments[4]) else {
            fail("usage: chorus-store-crash-child write-batches DIR KEYS PAUSE_US")
        }
        try writeBatches(directory: arguments[2], keysPerBatch: keys, pauseMicroseconds: pause)
    case "hold-reader":
        try holdReader(directory: arguments[2])
    case "fill":
        guard arguments.count == 4, let kibibytes = Int(arguments[3]) else {
            fail("usage: chorus-store-crash-child fill DIR KIB")
        }
        try fill(directory: arguments[2], kibibytes: kibibytes)
    default:
        fail("unknown mode \(arguments[1])")
    }
} catch {
    fail("\(error)")
}
