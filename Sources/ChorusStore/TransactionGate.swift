/// Counts the transactions open in this process so the map can be resized safely.
///
/// `mdb_env_set_mapsize` remaps the file, which invalidates every pointer a live transaction holds
/// into the old mapping, and LMDB leaves it to the caller to ensure no transaction is open in the
/// process. Every transaction therefore enters the gate when it begins and leaves when it ends; a
/// resize closes the gate to new transactions, waits until the open ones have ended, resizes, and
/// reopens it.
///
/// The gate also remembers which thread holds which transactions, so that a thread that would wait
/// on itself (it holds a transaction while a resize is needed, or begins a second write transaction,
/// which LMDB would deadlock on) gets an error instead of hanging.
///
/// `@unchecked Sendable` invariant: all mutable state is read and written only with `lock` held.
final class TransactionGate: @unchecked Sendable {
    private let lock = ConditionLock()
    private var open = 0
    private var resizing = false
    /// Open transactions per thread, and the threads holding or waiting for the write transaction
    /// (few threads at once, so lists scanned linearly beat hashing).
    private var holders: [(thread: UInt, count: Int)] = []
    private var writers: [UInt] = []

    private func holderIndex(_ thread: UInt) -> Int? {
        holders.firstIndex { $0.thread == thread }
    }

    enum EnterFailure: Error { case nestedWrite }

    /// Registers a transaction about to begin on `thread`. Waits while a resize is in progress, unless
    /// this thread already holds a transaction (the resize is waiting for it, so it must be let through).
    func enter(thread: UInt, write: Bool) throws(EnterFailure) {
        lock.lock()
        defer { lock.unlock() }
        if write && writers.contains(thread) { throw .nestedWrite }
        while resizing && holderIndex(thread) == nil { lock.wait() }
        open += 1
        if let index = holderIndex(thread) { holders[index].count += 1 } else { holders.append((thread, 1)) }
        if write { writers.append(thread) }
    }

    /// Unregisters a transaction that `enter` registered on `thread`.
    func leave(thread: UInt, write: Bool) {
        lock.lock()
        defer { lock.unlock() }
        open -= 1
        if let index = holderIndex(thread) {
            holders[index].count -= 1
            if holders[index].count == 0 { holders.remove(at: index) }
        }
        if write, let index = writers.firstIndex(of: thread) { writers.remove(at: index) }
        if open == 0 { lock.broadcast() }
    }

    enum ExclusiveFailure: Error { case heldByCaller }

    /// Runs `body` while no transaction is open in the process and no other thread runs `exclusive`.
    /// `body` should re-check whether its work is still needed: another thread may just have done it.
    func exclusive(thread: UInt, _ body: () -> Void) throws(ExclusiveFailure) {
        lock.lock()
        defer { lock.unlock() }
        if holderIndex(thread) != nil { throw .heldByCaller }
        while resizing { lock.wait() }
        resizing = true
        while open > 0 { lock.wait() }
        body()
        resizing = false
        lock.broadcast()
    }
}
