import ChorusCrypto

enum KeyLoading {
    /// Loads a key file; any problem (missing, lax permissions, corrupt) is a failure (exit 1)
    /// whose message says what to do.
    static func load(_ path: String) throws(CLIFailure) -> Ed25519.SigningKey {
        do {
            return try KeyFile.read(path)
        } catch {
            throw .failed(error.description)
        }
    }
}
