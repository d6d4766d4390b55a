import UnisonCore

/// Everything the release engine can refuse, with the input that caused it.
package enum ReleaseError: Error, Equatable, CustomStringConvertible, ExitCoded {
    case invalidDate(String)
    case invalidRef(String)
    case invalidVersion(String)
    case notAGitRepository(path: String)
    case git(path: String, message: String)
    case unknownChannel(String)
    case unknownService(String)
    case invalidOption(option: String, value: String, reason: String)
    case missingDigests([String])
    case missingServiceTags([String])
    case invalidMatrix(path: String, line: Int, reason: String)
    case matrixRowExists(platform: String)
    case unreadable(path: String, reason: String)
    /// A release manifest that cannot be read for its pins.
    case badManifest(path: String, reason: String)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .invalidDate(text): return "'\(text)' is not an ISO 8601 date-time (e.g. 2020-01-10T00:30:00Z)"
        case let .invalidRef(ref): return "'\(ref)' is not a git ref (refs/heads/…, refs/tags/…, refs/pull/…)"
        case let .invalidVersion(text): return "'\(text)' is not a SemVer 2.0.0 version"
        case let .notAGitRepository(path): return "\(path) is not a git repository"
        case let .git(path, message): return "git failed in \(path): \(message)"
        case let .unknownChannel(name): return "no channel named '\(name)' in the spec"
        case let .unknownService(name): return "no service named '\(name)' in the spec"
        case let .invalidOption(option, value, reason): return "\(option) '\(value)': \(reason)"
        case let .missingDigests(names): return "no image digest for \(names.joined(separator: ", ")) (pass --digest NAME=sha256:… or --digests FILE)"
        case let .missingServiceTags(names):
            return "no image tag for \(names.joined(separator: ", ")) (pass --service-tag NAME=vX.Y.Z, --matrix or --workspace)"
        case let .invalidMatrix(path, line, reason): return "\(path):\(line): \(reason)"
        case let .matrixRowExists(platform): return "the matrix already has a row for \(platform) (use --replace)"
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .badManifest(path, reason): return "release manifest '\(path)': \(reason)"
        }
    }
}
