/// Everything that can make bytes from the network fail to decode, or a value fail to encode.
///
/// Each case names the field (as the spec names it, e.g. `statement.body`) so an operator can
/// tell from one log line what was wrong; `code` is a stable machine-readable name that JSON
/// output and test vectors use.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside `field`: `needed` bytes were required, only `remaining` were left.
    case truncated(field: String, needed: Int, remaining: Int)
    /// A complete value was decoded but `count` bytes followed it. Canonical encodings have
    /// exactly one length, so extra bytes are refused rather than ignored.
    case trailingBytes(count: Int)
    /// A length or count prefix exceeds the field's maximum; refused before anything is allocated.
    case lengthOverLimit(field: String, length: Int, limit: Int)
    /// The value's version byte is one this build does not know.
    case unknownVersion(what: String, version: Int, highestKnown: Int)
    /// A statement type that is well formed but not accepted by the caller's policy.
    case unknownType(String)
    /// A field holds a value the encoding forbids (a boolean byte of 7, a type name with capitals, ...).
    case invalidValue(field: String, reason: String)
    /// The Ed25519 signature does not verify over the domain-separated statement bytes.
    case badSignature
    /// A statement of another network arrived; it is not valid here even if its signature is.
    case wrongNetwork(expected: String, got: String)

    /// A stable, lower-case name of the case, for JSON output and test vectors.
    public var code: String {
        switch self {
        case .truncated: return "truncated"
        case .trailingBytes: return "trailing-bytes"
        case .lengthOverLimit: return "length-over-limit"
        case .unknownVersion: return "unknown-version"
        case .unknownType: return "unknown-type"
        case .invalidValue: return "invalid-value"
        case .badSignature: return "bad-signature"
        case .wrongNetwork: return "wrong-network"
        }
    }

    public var description: String {
        switch self {
        case let .truncated(field, needed, remaining):
            return "input ends inside \(field): needs \(needed) more byte\(needed == 1 ? "" : "s"), only \(remaining) left (truncated or corrupted message)"
        case let .trailingBytes(count):
            return "\(count) unexpected byte\(count == 1 ? "" : "s") after the end of the value (canonical encodings have no trailing data)"
        case let .lengthOverLimit(field, length, limit):
            return "\(field) length \(length) exceeds its limit of \(limit)"
        case let .unknownVersion(what, version, highestKnown):
            return "\(what) version \(version) is not supported (this build knows versions up to \(highestKnown)); upgrade chorus or check the sender"
        case let .unknownType(name):
            return "statement type \"\(name)\" is not accepted here (unknown type)"
        case let .invalidValue(field, reason):
            return "invalid \(field): \(reason)"
        case .badSignature:
            return "Ed25519 signature does not verify: the statement was altered, or signed by another key, for another type, or for another network"
        case let .wrongNetwork(expected, got):
            return "statement belongs to network \"\(got)\", not \"\(expected)\""
        }
    }
}
