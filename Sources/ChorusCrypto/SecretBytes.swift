internal import CSodium

/// Secret key material: locked in RAM where the OS allows (so it is not swapped out), zeroed when
/// the last copy is released, compared in constant time, and never printed.
///
/// Copying a `SecretBytes` shares one immutable heap buffer; the buffer is never written after
/// creation, which is what makes sharing it across threads safe.
public struct SecretBytes: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let storage: Storage

    /// Copies `bytes` into locked, self-zeroing memory. The caller should wipe its own copy.
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        storage = Storage(count: bytes.count)
        let dst = storage.pointer
        for (i, b) in bytes.enumerated() { dst.storeBytes(of: b, toByteOffset: i, as: UInt8.self) }
    }

    /// Lets `fill` write all `count` bytes directly into locked memory (for keys derived in place).
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        storage = Storage(count: count)
        try fill(UnsafeMutableRawBufferPointer(start: storage.pointer, count: count))
    }

    /// `count` fresh random bytes from the OS.
    public static func random(count: Int) -> SecretBytes {
        _ = Sodium.ready
        return SecretBytes(count: count) { randombytes_buf($0.baseAddress!, $0.count) }
    }

    public var count: Int { storage.count }

    /// Lends the bytes for the duration of `body`; the pointer must not escape it.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeRawBufferPointer(start: storage.pointer, count: storage.count))
        }
    }

    /// Constant-time equality (libsodium `sodium_memcmp`); sizes are not secret.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }

    /// Owns the heap memory. `@unchecked Sendable` invariant: the bytes are written only inside the
    /// initialisers above, before the storage is shared, and are read-only afterwards; `deinit`
    /// runs once, when no copy refers to it.
    private final class Storage: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let count: Int
        let locked: Bool

        init(count: Int) {
            _ = Sodium.ready
            self.count = count
            // Always allocate at least one byte so the pointer is valid even for empty secrets.
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
            pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
            // mlock may fail under RLIMIT_MEMLOCK; the secret is still zeroed on release.
            locked = count > 0 && sodium_mlock(pointer, count) == 0
        }

        deinit {
            if locked {
                sodium_munlock(pointer, count)  // zeroes, then unlocks
            } else {
                sodium_memzero(pointer, max(count, 1))
            }
            pointer.deallocate()
        }
    }
}

/// Overwrites `buffer` with zeros in a way the optimiser cannot elide (libsodium `sodium_memzero`).
func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}
