#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk form of an Ed25519 identity key.
///
/// The file is text: a comment line, then `ed25519-seed: <64 hex>`. It is created with mode 0600
/// and `O_EXCL` (never overwritten), and refused on load when group or others can read or write it:
/// a leaked seed is a stolen identity, so a lax file is an error, not a warning.
public enum KeyFile {
    static let header = "# Chorus Ed25519 identity key (RFC 8032 seed). Keep this file secret; mode must be 0600."
    static let tag = "ed25519-seed: "

    /// Creates `path` holding `key`'s seed. Fails if the file exists.
    public static func write(_ key: Ed25519.SigningKey, to path: String) throws(CryptoError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST { throw .keyFile(path: path, reason: "already exists; refusing to overwrite an identity key") }
            throw .keyFile(path: path, reason: "cannot create (\(String(cString: strerror(e))))")
        }
        defer { close(fd) }
        // The hex text is secret too: build it in locked memory, never in a String.
        var text = Array((header + "\n" + tag).utf8)
        defer { text.withUnsafeMutableBytes { secureZero($0) } }
        let digits = Array("0123456789abcdef".utf8)
        key.seed.withUnsafeBytes { s in
            for b in s { text.append(digits[Int(b >> 4)]); text.append(digits[Int(b & 0xf)]) }
        }
        text.append(0x0a)
        let ok = text.withUnsafeBytes { buf -> Bool in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return false }
                off += n
            }
            return fsync(fd) == 0
        }
        guard ok else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .keyFile(path: path, reason: "write failed (\(reason))")
        }
    }

    /// Loads the key at `path`, refusing files that group or others may access.
    public static func read(_ path: String) throws(CryptoError) -> Ed25519.SigningKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .keyFile(path: path, reason: "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .keyFile(path: path, reason: "cannot stat") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .keyFile(path: path, reason: "not a regular file") }
        let perms = st.st_mode & 0o777
        guard perms & 0o077 == 0 else {
            throw .keyFile(path: path, reason: "permissions \(String(perms, radix: 8)) let group or others access the key; run `chmod 600 \(path)`")
        }
        guard st.st_size <= 4096 else { throw .keyFile(path: path, reason: "too large (\(st.st_size) bytes) to be a key file") }
        var raw = [UInt8](repeating: 0, count: Int(st.st_size))
        defer { raw.withUnsafeMutableBytes { secureZero($0) } }
        var got = 0
        while got < raw.count {
            let n = raw.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 { if errno == EINTR { continue }; throw .keyFile(path: path, reason: "read failed") }
            if n == 0 { break }
            got += n
        }
        // Find the tagged line and decode its 64 hex digits straight into locked memory.
        let tagBytes = Array(tag.utf8)
        var lineStart = 0
        while lineStart < got {
            var lineEnd = lineStart
            while lineEnd < got && raw[lineEnd] != 0x0a { lineEnd += 1 }
            if lineEnd - lineStart >= tagBytes.count && Array(raw[lineStart..<lineStart + tagBytes.count]) == tagBytes {
                var hexEnd = lineEnd
                while hexEnd > lineStart && (raw[hexEnd - 1] == 0x20 || raw[hexEnd - 1] == 0x0d) { hexEnd -= 1 }
                let hexStart = lineStart + tagBytes.count
                guard hexEnd - hexStart == 64 else {
                    throw .keyFile(path: path, reason: "seed must be 64 hex characters, found \(hexEnd - hexStart)")
                }
                var bad = false
                let seed = SecretBytes(count: 32) { out in
                    for i in 0..<32 {
                        guard let hi = Hex.nibble(raw[hexStart + 2 * i]), let lo = Hex.nibble(raw[hexStart + 2 * i + 1]) else { bad = true; return }
                        out[i] = hi << 4 | lo
                    }
                }
                guard !bad else { throw .keyFile(path: path, reason: "seed is not valid hex") }
                return try Ed25519.SigningKey(seed: seed)
            }
            lineStart = lineEnd + 1
        }
        throw .keyFile(path: path, reason: "no `\(tag.trimmingSuffix())` line; is this a Chorus key file?")
    }
}

private extension String {
    func trimmingSuffix() -> String { String(self.reversed().drop(while: { $0 == " " }).reversed()) }
}
