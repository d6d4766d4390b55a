import FoundationEssentials
import UnisonCore

/// One entry of a distribution-spec error body: `{"errors": [{"code", "message", "detail"}]}`.
package struct RegistryErrorDetail: Sendable, Hashable, Codable {
    package var code: String
    package var message: String?
    /// `detail` is free-form JSON; kept as compact text.
    package var detail: String?

    package init(code: String, message: String?, detail: String?) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    /// Parses an error body; nil when it is not one (HTML, empty, plain text).
    static func parse(_ body: Data) -> [RegistryErrorDetail]? {
        guard let errors = (try? JSONValue.parse(body))?["errors"]?.array,
            errors.allSatisfy({ $0.object != nil })
        else { return nil }
        return errors.map { e in
            var detail: String?
            switch e["detail"] {
            case nil, .null?: break
            case let .string(s)?: detail = s
            // A number prints as JSONSerialization's NSNumber did: true is "1".
            case let .bool(b)?: detail = b ? "1" : "0"
            case let .integer(i)?: detail = String(i)
            case let .double(d)?: detail = String(d)
            case let d?:
                // Compact, sorted keys, "/" escaped as "\/": the bytes JSONSerialization wrote.
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                detail = (try? encoder.encode(d)).map { String(decoding: $0, as: UTF8.self) }
            }
            return RegistryErrorDetail(code: e["code"]?.string ?? "UNKNOWN", message: e["message"]?.string, detail: detail)
        }
    }
}

/// Errors of the OCI client, each naming the reference, digest, path or HTTP status involved.
/// Credentials and tokens never appear in them.
package enum OCIError: Error, Sendable, CustomStringConvertible, ExitCoded {
    case invalidReference(String, reason: String)
    case invalidDigest(String)
    case invalidArgument(String)
    /// The registry answered with an unexpected status; `what` says which operation.
    case registry(status: Int, what: String, reference: String, errors: [RegistryErrorDetail], bodyExcerpt: String?)
    case unauthorized(registry: String, what: String, reference: String, detail: String)
    case tokenRequestFailed(realm: String, status: Int?, detail: String)
    /// The connection failed (refused, dropped, timed out) and retries were used up.
    case transport(what: String, reference: String, detail: String, attempts: Int)
    case digestMismatch(what: String, expected: Digest, actual: Digest)
    case sizeMismatch(what: String, digest: Digest, expected: Int64, actual: Int64)
    case manifestTooLarge(reference: String, limit: Int)
    case malformedManifest(reference: String, reason: String)
    case notFound(what: String, reference: String)
    case layout(path: String, reason: String)
    case insecureRedirect(from: String, to: String)
    case upload(reference: String, digest: Digest, reason: String)
    case unsupported(String)
    case invalidModelName(String, reason: String)
    case modelStore(path: String, reason: String)
    case io(path: String, reason: String)

    package var exitStatus: ExitStatus {
        switch self {
        case .invalidReference, .invalidDigest, .invalidArgument, .invalidModelName, .layout, .malformedManifest, .unsupported:
            return .badInput
        default:
            return .checkFailed
        }
    }

    package var description: String {
        switch self {
        case let .invalidReference(text, reason):
            return "invalid reference '\(text)': \(reason)"
        case let .invalidDigest(text):
            return "invalid digest '\(text)' (expected sha256:<64 hex> or sha512:<128 hex>, lowercase)"
        case let .invalidArgument(text):
            return text
        case let .registry(status, what, reference, errors, excerpt):
            var text = "\(what) \(reference): registry answered HTTP \(status)"
            if !errors.isEmpty {
                text +=
                    " "
                    + errors.map { e in
                        var s = e.code
                        if let m = e.message, !m.isEmpty { s += " (\(m))" }
                        if let d = e.detail, !d.isEmpty { s += " [\(d.prefix(200))]" }
                        return s
                    }.joined(separator: "; ")
            } else if let excerpt, !excerpt.isEmpty {
                text += ": \(excerpt)"
            }
            return text
        case let .unauthorized(registry, what, reference, detail):
            return
                "\(what) \(reference): not authorized by \(registry) (\(detail)); give credentials with --username/--password-stdin, UNISON_REGISTRY_USER/UNISON_REGISTRY_PASSWORD, GITHUB_TOKEN (ghcr.io) or ~/.docker/config.json"
        case let .tokenRequestFailed(realm, status, detail):
            return "token request to \(realm) failed" + (status.map { " with HTTP \($0)" } ?? "") + ": \(detail)"
        case let .transport(what, reference, detail, attempts):
            return "\(what) \(reference): connection failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(detail)"
        case let .digestMismatch(what, expected, actual):
            return "\(what): content does not match its digest (expected \(expected), got \(actual)); nothing was kept"
        case let .sizeMismatch(what, digest, expected, actual):
            return "\(what): \(digest) has \(actual) bytes, its descriptor says \(expected); nothing was kept"
        case let .manifestTooLarge(reference, limit):
            return "manifest \(reference) is larger than the \(limit)-byte limit"
        case let .malformedManifest(reference, reason):
            return "manifest \(reference) is malformed: \(reason)"
        case let .notFound(what, reference):
            return "\(what) \(reference) was not found"
        case let .layout(path, reason):
            return "OCI layout \(path): \(reason)"
        case let .insecureRedirect(from, to):
            return "refusing redirect from \(from) to \(to) (it leaves HTTPS)"
        case let .upload(reference, digest, reason):
            return "upload of \(digest) to \(reference) failed: \(reason)"
        case let .unsupported(text):
            return text
        case let .invalidModelName(name, reason):
            return "invalid model name '\(name)': \(reason)"
        case let .modelStore(path, reason):
            return "model store \(path): \(reason)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }

    /// Whether the registry reported the thing as absent (404, or a `*_UNKNOWN` code).
    package var isNotFound: Bool {
        switch self {
        case .notFound: return true
        case let .registry(status, _, _, errors, _):
            return status == 404 || errors.contains { $0.code.hasSuffix("_UNKNOWN") || $0.code == "NAME_UNKNOWN" }
        default: return false
        }
    }
}
