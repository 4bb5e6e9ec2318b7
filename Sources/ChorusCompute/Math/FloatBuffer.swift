/// Owned, zero-initialised, 64-byte-aligned fp32 storage. Weights, KV caches and forward-pass
/// scratch live in these so the hot loops work on raw pointers (no array copy-on-write checks, no
/// nested `withUnsafe…` closures) and OpenBLAS gets cache-line-aligned operands.
final class FloatBuffer {
    /// Invariant: `pointer` addresses `count` initialised floats (at least one slot is allocated so
    /// it is never dangling), owned by this object and freed only in `deinit`.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        precondition(count >= 0)
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        pointer.deinitialize(count: max(count, 1))
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
