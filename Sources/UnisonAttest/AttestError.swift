import Foundation
import UnisonCore

/// Errors of the attestation area: keys, signatures, SBOMs, provenance. Each case carries the
/// path or field that failed; none ever carries private key material.
public enum AttestError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    /// A key file or key text that is not what it should be (`source` is a path or an
    /// environment variable name, never the key).
    case badKey(source: String, reason: String)
    /// An armored SSH signature that cannot be parsed.
    case badSignature(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case badInput(String)

    public var exitStatus: ExitStatus { .badInput }

    public var description: String {
        switch self {
        case let .badKey(source, reason): return "signing key \(source): \(reason)"
        case let .badSignature(path, reason): return "signature \(path): \(reason)"
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .badInput(text): return text
        }
    }
}
