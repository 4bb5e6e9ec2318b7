internal import CLibUV

/// Implemented by every class that owns a libuv handle. The owner is retained by the handle's `data`
/// pointer from `EventLoop.adopt` until the handle's close callback, so a handle can never call back
/// into a freed owner, and an open handle keeps its owner alive even if nobody else refers to it.
protocol HandleOwner: AnyObject {
    /// The loop is shutting down: start closing (called on the loop thread from `uv_walk`).
    func closeForShutdown()
    /// libuv ran the close callback; the handle memory is freed right after this returns, so the
    /// owner must forget its handle pointer here.
    func handleDidClose()
}

// Memory rules for every handle. libuv keeps the handle's address and may call back through it
// until the close callback has run, so the memory must neither move nor be freed before then:
// - handles are heap-allocated with `EventLoop.allocateHandle` and never move;
// - `data` is read and written only through libuv's accessors (`uv_handle_get_data`/`set_data`), so
//   Swift never reads a `uv_tcp_t` through a `uv_handle_t` pointer itself;
// - the memory is freed only in `closeHandleCallback`, after libuv is done with it.

extension EventLoop {
    /// Allocates memory for a libuv handle of type `T`; initialise it with `uv_*_init`, then `adopt` it.
    func allocateHandle<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        .allocate(capacity: 1)
    }

    /// Counts an initialised handle as open and makes `owner` (retained) its owner until the close
    /// callback. A nil owner is allowed for handles closed again right away (failed setup).
    func adopt(_ handle: UnsafeMutableRawPointer, owner: (any HandleOwner)?) {
        uv_handle_set_data(cuv_handle(handle), owner.map { Unmanaged<AnyObject>.passRetained($0).toOpaque() })
        openHandles.add(1, ordering: .relaxed)
    }

    /// The `EventLoop` a libuv handle belongs to.
    static func owning(_ handle: UnsafeMutablePointer<uv_handle_t>?) -> EventLoop {
        // Invariant: every loop's data is set in `EventLoop.init` before any handle exists, and the loop
        // outlives its handles.
        Unmanaged<EventLoop>.fromOpaque(uv_loop_get_data(uv_handle_get_loop(handle))).takeUnretainedValue()
    }
}

/// The owner adopted for `handle`, if any.
func handleOwner(_ handle: UnsafeMutablePointer<uv_handle_t>) -> (any HandleOwner)? {
    guard let data = uv_handle_get_data(handle) else { return nil }
    return Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? any HandleOwner
}

/// Typed access to the owner from a callback of a handle adopted by an `Owner`.
func handleOwner<Owner: AnyObject>(_ handle: UnsafeMutableRawPointer?, as _: Owner.Type) -> Owner? {
    guard let data = uv_handle_get_data(cuv_handle(handle)) else { return nil }
    return Unmanaged<Owner>.fromOpaque(data).takeUnretainedValue()
}

/// The one close callback for every handle: tells the owner, releases it, frees the memory.
func closeHandleCallback(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
    guard let handle else { return }
    let loop = EventLoop.owning(handle)
    if let data = uv_handle_get_data(handle) {
        uv_handle_set_data(handle, nil)
        let owner = Unmanaged<AnyObject>.fromOpaque(data).takeRetainedValue()
        (owner as? any HandleOwner)?.handleDidClose()
    }
    UnsafeMutableRawPointer(handle).deallocate()
    loop.openHandles.subtract(1, ordering: .relaxed)
}
