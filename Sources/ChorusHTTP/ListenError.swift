import Foundation
import NIOCore

/// Why a listener could not bind, in words an operator can act on (NIO's own text reads like
/// "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)").
public struct ListenError: Error, Sendable, Equatable, CustomStringConvertible {
    public let address: ListenAddress
    public let reason: String

    public init(address: ListenAddress, reason: String) {
        self.address = address
        self.reason = reason
    }

    public var description: String { "cannot listen on \(address): \(reason)" }

    /// A plain reason, with what to do, for the error that stopped a server binding `address`.
    /// `flag` names the option that chose the address (e.g. `--listen`), so the hint says what to change.
    public static func reason(_ error: any Error, binding address: ListenAddress, flag: String) -> String {
        if let unknown = error as? SocketAddressError.UnknownHost {
            return "cannot resolve host \(unknown.host) (\(unknown.errorDescription.lowercased())); give an IP address or a known name"
        }
        if case .unixDomainSocketPathTooLong? = error as? SocketAddressError {
            return "the path is too long for a Unix socket (under 108 bytes); pick a shorter \(flag) unix:PATH"
        }
        guard let code = (error as? IOError)?.errnoCode else { return "\(error)" }
        let plain = String(cString: strerror(code)).lowercased()
        switch (code, address) {
        case (EADDRINUSE, _):
            return "address already in use (another server or program has it; pick another \(flag))"
        case (EACCES, .tcp), (EPERM, .tcp):
            return "permission denied (ports below 1024 need privileges; pick a port of 1024 or more with \(flag))"
        case (EACCES, .unix(let path)), (EPERM, .unix(let path)):
            return "permission denied (this user cannot create a socket in \((path as NSString).deletingLastPathComponent); "
                + "pick a directory you can write with \(flag) unix:PATH)"
        case (EADDRNOTAVAIL, .tcp(let host, _)):
            return "\(host) is not an address of this machine (use 127.0.0.1, 0.0.0.0 or an address of one of its interfaces)"
        case (ENOENT, .unix(let path)), (ENOTDIR, .unix(let path)):
            return "\(plain): the directory \((path as NSString).deletingLastPathComponent) does not exist or is not a directory "
                + "(pick another \(flag) unix:PATH)"
        case (ENAMETOOLONG, .unix), (EINVAL, .unix):
            return "\(plain) (a Unix socket path must be under 108 bytes; pick a shorter \(flag) unix:PATH)"
        default:
            return plain
        }
    }
}
