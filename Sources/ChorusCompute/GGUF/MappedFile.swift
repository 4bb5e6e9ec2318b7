#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Model files are hundreds of megabytes; mapping lets
/// the reader walk the header and dequantize tensors without copying the file first.
final class MappedFile {
    /// Invariant: `bytes` covers exactly the mapping made in `init` (or is empty for an empty file)
    /// and stays valid until `deinit` unmaps it; nothing else unmaps or writes it (PROT_READ).
    let bytes: UnsafeRawBufferPointer
    let path: String

    init(path: String) throws(GGUFError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GGUFError(file: path, .cannotOpen(reason: MappedFile.errnoText())) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw GGUFError(file: path, .cannotOpen(reason: MappedFile.errnoText())) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(file: path, .cannotOpen(reason: "not a regular file"))
        }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw GGUFError(file: path, .cannotOpen(reason: "mmap failed: " + MappedFile.errnoText()))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
