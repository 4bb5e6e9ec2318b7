import ChorusCrypto

/// The ids anti-entropy reconciles, held in memory (Specs/gossip.md §4, "What is reconciled"): per
/// scope, the ids ascending, with the whole scope's count and fingerprint cached. The shell loads it
/// once from its store and then keeps it equal to what the store holds in the scopes it covers
/// (inserting what is committed, removing what is pruned), so a reconciliation round reads no store
/// and a scope that did not change is not hashed again.
///
/// Bounded: at most `capacity` ids. When an insert passes it, whole scopes are dropped until the
/// index fits again: scopes of topics outside `priorityTopics` (the epoch protocol's statements)
/// before those in it, older epochs before newer, larger scopes before smaller. A dropped scope is
/// not reconciled, and takes no ids, until the shell removes it (its epoch leaves the window). Never
/// part of a scope: a partial scope would differ from its peers' forever and make the node fetch, in
/// every round, statements it already stores.
///
/// Pure and single-threaded. Inserts are O(1) (a set of unsorted ids per scope); the ids of a scope
/// are sorted into place when a round reads them, O(n + k log k) for k new ids.
public struct SyncIndex: Sendable {
    private struct Scope: Sendable {
        var sorted: [Bytes32] = []
        var unsorted: Set<Bytes32> = []
        var summary: (count: Int, fingerprint: Bytes32)?

        var count: Int { sorted.count + unsorted.count }

        func contains(_ id: Bytes32) -> Bool {
            if unsorted.contains(id) { return true }
            var lo = 0, hi = sorted.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if sorted[mid] < id { lo = mid + 1 } else { hi = mid }
            }
            return lo < sorted.count && sorted[lo] == id
        }

        /// Merges the unsorted ids into the sorted ones.
        mutating func settle() {
            guard !unsorted.isEmpty else { return }
            let added = unsorted.sorted()
            unsorted = []
            var merged: [Bytes32] = []
            merged.reserveCapacity(sorted.count + added.count)
            var i = 0, j = 0
            while i < sorted.count && j < added.count {
                if sorted[i] < added[j] { merged.append(sorted[i]); i += 1 } else { merged.append(added[j]); j += 1 }
            }
            merged += sorted[i...]
            merged += added[j...]
            sorted = merged
        }
    }

    /// The most ids held, over every scope.
    public let capacity: Int
    /// Topics whose scopes are dropped last when the index is full.
    public let priorityTopics: Set<Topic>
    private var scopes: [SyncScope: Scope] = [:]
    /// Scopes dropped because the index was full.
    public private(set) var dropped: Set<SyncScope> = []
    /// Ids held, over every scope.
    public private(set) var count = 0
    /// Scopes dropped since the index was made (a scope dropped twice counts twice).
    public private(set) var scopesDropped = 0

    public init(capacity: Int, priorityTopics: Set<Topic> = []) {
        self.capacity = max(0, capacity)
        self.priorityTopics = priorityTopics
    }

    /// The scopes held (dropped ones excluded), ascending.
    public var heldScopes: [SyncScope] { scopes.keys.sorted() }

    /// Ids held in `scope` (0 for a scope not held).
    public func count(of scope: SyncScope) -> Int { scopes[scope]?.count ?? 0 }

    public func isDropped(_ scope: SyncScope) -> Bool { dropped.contains(scope) }

    public func contains(_ id: Bytes32, in scope: SyncScope) -> Bool { scopes[scope]?.contains(id) ?? false }

    /// Adds `id` to `scope`. Returns false when it was held already, or the scope is dropped (or
    /// had to be dropped to make room).
    @discardableResult
    public mutating func insert(_ id: Bytes32, into scope: SyncScope) -> Bool {
        guard !dropped.contains(scope) else { return false }
        var entry = scopes.removeValue(forKey: scope) ?? Scope()
        guard !entry.contains(id) else {
            scopes[scope] = entry
            return false
        }
        entry.unsorted.insert(id)
        entry.summary = nil
        scopes[scope] = entry
        count += 1
        makeRoom()
        return !dropped.contains(scope)
    }

    /// Takes `ids` (ascending, unique: a store's scope index) as the whole content of a scope not
    /// held yet. When they do not fit beside what is held, the scope is dropped instead (the
    /// shell loads scopes from the most to the least important, so nothing held gives way).
    /// Returns whether the scope is held.
    @discardableResult
    public mutating func load(_ ids: [Bytes32], into scope: SyncScope) -> Bool {
        guard !dropped.contains(scope), scopes[scope] == nil else { return false }
        guard count + ids.count <= capacity else {
            drop(scope)
            return false
        }
        guard !ids.isEmpty else { return true }
        scopes[scope] = Scope(sorted: ids)
        count += ids.count
        return true
    }

    /// Marks `scope` dropped without holding any of it (the shell found the index full).
    public mutating func drop(_ scope: SyncScope) {
        if let entry = scopes.removeValue(forKey: scope) { count -= entry.count }
        if dropped.insert(scope).inserted { scopesDropped += 1 }
    }

    /// The ids of `scope`, ascending (empty for a scope not held).
    public mutating func ids(of scope: SyncScope) -> [Bytes32] {
        guard var entry = scopes.removeValue(forKey: scope) else { return [] }
        entry.settle()
        let ids = entry.sorted
        scopes[scope] = entry
        return ids
    }

    /// The count and fingerprint of the whole of `scope` (`RangeReconciler.fingerprint`), computed
    /// once per change of the scope.
    public mutating func summary(of scope: SyncScope) -> (count: Int, fingerprint: Bytes32) {
        guard var entry = scopes.removeValue(forKey: scope) else { return (0, RangeReconciler.fingerprint([Bytes32]()[...])) }
        if entry.summary == nil {
            entry.settle()
            entry.summary = (entry.sorted.count, RangeReconciler.fingerprint(entry.sorted[...]))
        }
        let summary = entry.summary!
        scopes[scope] = entry
        return summary
    }

    /// Forgets every scope, held or dropped, that `condition` selects; returns the ids removed.
    @discardableResult
    public mutating func remove(where condition: (SyncScope) -> Bool) -> Int {
        var removed = 0
        for scope in scopes.keys where condition(scope) {
            removed += scopes.removeValue(forKey: scope)!.count
        }
        count -= removed
        dropped = dropped.filter { !condition($0) }
        return removed
    }

    /// Drops whole scopes, least important first, until at most `capacity` ids are held.
    private mutating func makeRoom() {
        while count > capacity, let victim = scopes.min(by: { rank($0.key, $0.value.count) < rank($1.key, $1.value.count) })?.key {
            drop(victim)
        }
    }

    /// Lower ranks are dropped first: other topics before priority ones, then older epochs, then larger scopes.
    private func rank(_ scope: SyncScope, _ count: Int) -> (Int, UInt64, Int, SyncScope) {
        (priorityTopics.contains(scope.topic) ? 1 : 0, scope.epoch, -count, scope)
    }
}
