import FoundationEssentials
import UnisonCore

/// Errors of the attestation area: keys, signatures, SBOMs, provenance. Each case carries the
/// path or field that failed; none ever carries private key material.
package enum AttestError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    /// A key file or key text that is not what it should be (`source` is a path or an
    /// environment variable name, never the key).
    case badKey(source: String, reason: String)
    /// An armored SSH signature that cannot be parsed.
    case badSignature(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case badInput(String)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .badKey(source, reason): return "signing key \(source): \(reason)"
        case let .badSignature(path, reason): return "signature \(path): \(reason)"
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .badInput(text): return text
        }
    }
}

/// Reads of files a release (or its registry) supplies: each kind has a ceiling, checked
/// before the bytes are read, so a hostile directory cannot make a check load gigabytes.
enum BoundedRead {
    static let signature = 64 << 10
    static let keys = 1 << 20
    static let checksums = 16 << 20
    static let provenance = 64 << 20
    static let sbom = 256 << 20

    static func data(_ url: URL, limit: Int, what: String) throws -> Data {
        let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? UInt).map { Int(truncatingIfNeeded: $0) } ?? 0
        guard size <= limit else {
            throw AttestError.unreadable(path: url.path, reason: "\(size) bytes is more than a \(what) may be (\(limit))")
        }
        do { return try Data(contentsOf: url) } catch {
            throw AttestError.unreadable(path: url.path, reason: "cannot read the \(what)")
        }
    }

    static func text(_ url: URL, limit: Int, what: String) throws -> String {
        String(decoding: try data(url, limit: limit, what: what), as: UTF8.self)
    }
}
