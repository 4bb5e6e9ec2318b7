internal import CSodium

/// One-time libsodium initialisation. `sodium_init` is idempotent and thread-safe; the `static let`
/// makes every entry point of this module pay for it once, lazily, before the first C call.
enum Sodium {
    static let ready: Void = {
        precondition(sodium_init() >= 0, "libsodium failed to initialise (sodium_init < 0)")
    }()
}
