internal import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// LMDB return codes and their names; the one place that turns a return code into a `StoreError`.
enum LMDBStatus {
    static let success: Int32 = MDB_SUCCESS
    static let keyExists: Int32 = MDB_KEYEXIST
    static let notFound: Int32 = MDB_NOTFOUND
    static let mapFull: Int32 = MDB_MAP_FULL
    static let mapResized: Int32 = MDB_MAP_RESIZED
    static let readersFull: Int32 = MDB_READERS_FULL
    static let readersTableFullTLS: Int32 = MDB_TLS_FULL
    static let tablesFull: Int32 = MDB_DBS_FULL
    static let transactionFull: Int32 = MDB_TXN_FULL
    static let badValueSize: Int32 = MDB_BAD_VALSIZE
    static let badTransaction: Int32 = MDB_BAD_TXN
    static let incompatible: Int32 = MDB_INCOMPATIBLE
    static let panic: Int32 = MDB_PANIC

    /// Codes that mean the file's contents cannot be trusted.
    static func isCorruption(_ code: Int32) -> Bool {
        code == MDB_INVALID || code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND || code == MDB_VERSION_MISMATCH
    }

    /// The symbolic name of an LMDB code or errno value (`MDB_MAP_FULL`, `ENOSPC`, …).
    static func name(of code: Int32) -> String {
        switch code {
        case MDB_KEYEXIST: return "MDB_KEYEXIST"
        case MDB_NOTFOUND: return "MDB_NOTFOUND"
        case MDB_PAGE_NOTFOUND: return "MDB_PAGE_NOTFOUND"
        case MDB_CORRUPTED: return "MDB_CORRUPTED"
        case MDB_PANIC: return "MDB_PANIC"
        case MDB_VERSION_MISMATCH: return "MDB_VERSION_MISMATCH"
        case MDB_INVALID: return "MDB_INVALID"
        case MDB_MAP_FULL: return "MDB_MAP_FULL"
        case MDB_DBS_FULL: return "MDB_DBS_FULL"
        case MDB_READERS_FULL: return "MDB_READERS_FULL"
        case MDB_TLS_FULL: return "MDB_TLS_FULL"
        case MDB_TXN_FULL: return "MDB_TXN_FULL"
        case MDB_CURSOR_FULL: return "MDB_CURSOR_FULL"
        case MDB_PAGE_FULL: return "MDB_PAGE_FULL"
        case MDB_MAP_RESIZED: return "MDB_MAP_RESIZED"
        case MDB_INCOMPATIBLE: return "MDB_INCOMPATIBLE"
        case MDB_BAD_RSLOT: return "MDB_BAD_RSLOT"
        case MDB_BAD_TXN: return "MDB_BAD_TXN"
        case MDB_BAD_VALSIZE: return "MDB_BAD_VALSIZE"
        case MDB_BAD_DBI: return "MDB_BAD_DBI"
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EBUSY: return "EBUSY"
        case EEXIST: return "EEXIST"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EINVAL: return "EINVAL"
        case EMFILE: return "EMFILE"
        case EFBIG: return "EFBIG"
        case ENOSPC: return "ENOSPC"
        case EROFS: return "EROFS"
        case ENAMETOOLONG: return "ENAMETOOLONG"
        default: return code < 0 ? "LMDB code \(code)" : "errno \(code)"
        }
    }

    /// LMDB's message for `code` (it falls back to `strerror` for errno values).
    static func message(of code: Int32) -> String {
        guard let text = mdb_strerror(code) else { return "unknown error" }
        return String(cString: text)
    }

    /// The error for a failed call, classifying corruption separately so it reads as such.
    static func error(_ code: Int32, operation: String, path: String) -> StoreError {
        if isCorruption(code) {
            return .corrupt(path: path, codeName: name(of: code), message: message(of: code))
        }
        return .lmdb(operation: operation, path: path, code: code, codeName: name(of: code), message: message(of: code))
    }
}
