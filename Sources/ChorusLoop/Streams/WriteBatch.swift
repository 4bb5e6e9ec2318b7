internal import CLibUV
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The bytes a connection was asked to write during one loop turn, sent together with one `uv_write`
/// (one system call) when the turn ends, plus the completions to call once they are sent.
///
/// Memory invariant: `storage` is a `malloc` block of `capacity` bytes owned by this object alone and
/// freed in `deinit`. While a `uv_write` is in flight the batch is retained by its request's `data`
/// (see `send`), so the bytes libuv points at stay valid until `write_cb`.
final class WriteBatch {
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    /// Bytes appended so far.
    private(set) var count = 0
    private var completions: [(Result<Void, LoopError>) -> Void] = []

    deinit {
        free(storage)
    }

    /// Copies `bytes` to the end of the batch.
    func append(_ bytes: [UInt8], completion: ((Result<Void, LoopError>) -> Void)?) {
        if let completion { completions.append(completion) }
        guard !bytes.isEmpty else { return }
        reserve(count + bytes.count)
        bytes.withUnsafeBytes { source in
            // Invariant: reserve made `storage` hold at least count + source.count bytes.
            (storage! + count).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        count += bytes.count
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2, 4096)
        guard let grown = realloc(storage, newCapacity) else {
            fatalError("out of memory growing a write batch to \(newCapacity) bytes")
        }
        storage = grown
        capacity = newCapacity
    }

    /// Calls every completion with `result`, in the order the writes were made.
    func complete(_ result: Result<Void, LoopError>) {
        let pending = completions
        completions = []
        for completion in pending { completion(result) }
    }

    /// Starts one `uv_write` of the whole batch on `stream`; returns libuv's synchronous status. On
    /// success the batch is retained until `WriteBatch.finish` runs in the write callback.
    func send(on stream: UnsafeMutableRawPointer, callback: uv_write_cb) -> Int32 {
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        request.initialize(to: uv_write_t())
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        var buffer = cuv_buf(storage, count)
        let rc = uv_write(request, cuv_stream(stream), &buffer, 1, callback)
        if rc != 0 { _ = Self.finish(request) }
        return rc
    }

    /// Frees a write request and hands back its stream and batch.
    static func finish(
        _ request: UnsafeMutablePointer<uv_write_t>
    ) -> (stream: UnsafeMutableRawPointer?, batch: WriteBatch?) {
        let stream = request.pointee.handle.map { UnsafeMutableRawPointer($0) }
        let batch = request.pointee.data.map { Unmanaged<WriteBatch>.fromOpaque($0).takeRetainedValue() }
        request.deallocate()
        return (stream, batch)
    }
}
