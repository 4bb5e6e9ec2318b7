import ChorusCrypto

/// Model file identity (Specs/poc-kernel.md §7.1): `sha256:` and the SHA-256 of the whole file.
public enum FileDigest {
    /// Hashes the file through a read-only mapping (no copy of a 100 MB model).
    public static func sha256(path: String) throws(GGUFError) -> String {
        let file = try MappedFile(path: path)
        return "sha256:" + SHA256.hash(file.bytes).hex
    }
}
