import ChorusCrypto
import ChorusWire
import Foundation
import Synchronization
import Testing
@testable import ChorusNode

/// The verification pool's bounds (Services/Intake/VerificationPool.swift) and the intake on a
/// node: work beyond the queue or a peer's share is refused, counted and never run; what is taken
/// is verified off the loop and stored exactly once.
@Suite struct VerificationPoolTests {
    private static func key(_ n: UInt8) -> Ed25519.PublicKey {
        try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: n, count: 32))).publicKey
    }

    @Test func refusesWorkBeyondTheQueueAndAPeersShare() async throws {
        let pool = VerificationPool(threads: 1, maxQueued: 10, maxQueuedPerPeer: 4)
        defer { pool.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        let ran = Mutex(0)
        let a = Self.key(1), b = Self.key(2)
        // The one thread blocks on the first job, so everything after it stays queued.
        #expect(pool.submit(cost: 4, peer: a) { gate.wait(); ran.withLock { $0 += 1 }; return nil })
        #expect(!pool.submit(cost: 1, peer: a) { ran.withLock { $0 += 100 }; return nil }, "a's share (4) is full")
        #expect(pool.queuedCost(of: a) == 4)
        #expect(pool.submit(cost: 4, peer: b) { ran.withLock { $0 += 1 }; return nil })
        #expect(!pool.submit(cost: 3, peer: nil) { ran.withLock { $0 += 100 }; return nil }, "8 + 3 exceeds the queue of 10")
        #expect(pool.submit(cost: 2, peer: nil) { ran.withLock { $0 += 1 }; return nil })
        #expect(pool.queuedCost == 10)
        gate.signal()
        let drained = await eventually(timeout: .seconds(5)) { pool.queuedCost == 0 }
        #expect(drained)
        #expect(ran.withLock { $0 } == 3, "exactly the accepted jobs ran")
        #expect(pool.queuedCost(of: a) == 0 && pool.queuedCost(of: b) == 0)
        // Room again once drained.
        #expect(pool.submit(cost: 4, peer: a) { nil })
        // A job's completion runs after its cost left the queue (what back-pressure reads).
        let seen = LockedForTests<Int?>(nil)
        #expect(pool.submit(cost: 3, peer: b) { { seen.withLock { $0 = pool.queuedCost(of: b) } } })
        #expect(await eventually(timeout: .seconds(5)) { seen.withLock { $0 } != nil })
        #expect(seen.withLock { $0 } == 0)
    }

    @Test func workRunsOnTheVerificationThreadsNotTheCaller() async throws {
        let pool = VerificationPool(threads: 2)
        defer { pool.shutdown() }
        let names = Mutex<Set<String>>([])
        for _ in 0..<8 {
            #expect(pool.submit(cost: 1, peer: nil) { names.withLock { _ = $0.insert(Self.currentThreadName()) }; return nil })
        }
        #expect(await eventually(timeout: .seconds(5)) { pool.queuedCost == 0 })
        let seen = names.withLock { $0 }
        #expect(!seen.isEmpty && seen.allSatisfy { $0.hasPrefix("chorus-verify-") }, "ran on \(seen)")
    }

    /// The OS thread's name (what top -H shows).
    private static func currentThreadName() -> String {
        #if os(Linux)
        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
        return comm.trimmingCharacters(in: .whitespacesAndNewlines)
        #else
        return Thread.current.name ?? "?"
        #endif
    }

    @Test func aShutDownPoolTakesNothing() {
        let pool = VerificationPool(threads: 1)
        pool.shutdown()
        #expect(!pool.submit(cost: 1, peer: nil) { nil })
    }

    /// A statement that anti-entropy stored before its gossip arrived is still delivered (and
    /// forwarded) by gossip: the lab once lost 1 of 9,900 deliveries that way.
    @Test func aStatementStoredBySyncIsStillAcceptedWhenItsGossipArrives() async throws {
        let directory = temporaryDirectory("intake-dup")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.networkID = "intake-dup-net"
        let node = try await NodeHarnessForTests(configuration: configuration, storeDirectory: directory)
        defer { Task { await node.shutdown() } }
        let statement = try SignedStatement.sign(networkID: "intake-dup-net", type: .text, epoch: 0, seq: 1,
                                                 body: Array("synced first".utf8), key: .generate()).encoded
        let forged = Array(statement.dropLast()) + [statement.last! ^ 1]
        let verdicts = LockedForTests<[String]>([])
        node.loop.execute {
            node.node.assumeIsolated { n in
                n.ingestSynced([statement], from: Self.key(3)) { _ in
                    n.intake.validate(statement, from: Self.key(4)) { r in verdicts.withLock { $0.append("\(r)") } }
                    n.intake.validate(forged, from: Self.key(4)) { r in verdicts.withLock { $0.append("\(r)") } }
                }
            }
        }
        #expect(await eventually(timeout: .seconds(10)) { verdicts.withLock { $0.count } == 2 })
        #expect(Set(verdicts.withLock { $0 }) == ["accept", "reject"])
    }

    /// A peer that sends sync batches faster than they verify gets its share of the pool and no
    /// more: the rest is refused and counted, nothing is stored twice, and the node keeps going.
    @Test func aPeerFloodingSyncBatchesIsHeldToItsShare() async throws {
        let directory = temporaryDirectory("intake")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.networkID = "intake-net"
        configuration.verificationThreads = 1
        let node = try await NodeHarnessForTests(configuration: configuration, storeDirectory: directory)
        defer { Task { await node.shutdown() } }
        // Many authors, so the weightless budget (1 MiB each) does not stop any of them.
        let authors = (0..<64).map { _ in Ed25519.SigningKey.generate() }
        let share = VerificationPool.defaultMaxQueuedPerPeer
        let statements = try (0..<(share + 8192)).map { i in
            try SignedStatement.sign(networkID: "intake-net", type: .text, epoch: 0, seq: UInt64(i + 1),
                                     body: Array("s\(i)".utf8), key: authors[i % authors.count]).encoded
        }
        let batches = stride(from: 0, to: statements.count, by: 1024).map { Array(statements[$0..<min($0 + 1024, statements.count)]) }
        let flooder = Self.key(9)
        let results = LockedForTests<[StatementIntake.BatchResult]>([])
        // Every batch arrives in one loop turn, as from a peer that ignores flow control.
        node.loop.execute {
            node.node.assumeIsolated { n in
                for batch in batches {
                    n.ingestSynced(batch, from: flooder) { result in results.withLock { $0.append(result) } }
                }
            }
        }
        #expect(await eventually(timeout: .seconds(60)) { results.withLock { $0.count } == batches.count })
        let all = results.withLock { $0 }
        let stored = all.reduce(0) { $0 + $1.stored }, refused = all.reduce(0) { $0 + $1.refused }
        #expect(refused >= 1024, "beyond the peer's share of \(share) statements, work is refused")
        #expect(stored + refused == statements.count)
        #expect(all.allSatisfy { $0.rejected == 0 })
        #expect(await node.node.currentCounters.verificationRefused == refused)
        // Offered again (as anti-entropy's next rounds would, from several peers), the refused ones
        // are stored, once.
        let again = LockedForTests<[StatementIntake.BatchResult]>([])
        node.loop.execute {
            node.node.assumeIsolated { n in
                for (i, batch) in batches.enumerated() {
                    n.ingestSynced(batch, from: Self.key(UInt8(20 + i))) { r in again.withLock { $0.append(r) } }
                }
            }
        }
        #expect(await eventually(timeout: .seconds(60)) { again.withLock { $0.count } == batches.count })
        #expect(again.withLock { $0 }.reduce(0) { $0 + $1.stored } == refused)
        #expect(await node.node.currentCounters.syncedStatements == statements.count)
    }
}

/// A value behind a lock that escaping closures can share (a `Mutex` is not copyable into them).
final class LockedForTests<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout sending Value) -> sending R) -> R { mutex.withLock(body) }
}
