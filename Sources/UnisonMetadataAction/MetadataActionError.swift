import UnisonCore

/// What docker/metadata-action's rules refuse, with the input that caused it. The words are
/// the ones `release tags` has always printed (they were `ReleaseError` cases before this
/// module stood alone).
package enum MetadataActionError: Error, Equatable, CustomStringConvertible, ExitCoded {
    /// A `tags:` / `flavor:` / `images:` line the action's grammar rejects.
    case invalidRule(line: String, reason: String)
    /// A template (`{{…}}`) that cannot be evaluated.
    case invalidTemplate(template: String, reason: String)
    case unknownTimeZone(String)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .invalidRule(line, reason): return "invalid rule '\(line)': \(reason)"
        case let .invalidTemplate(template, reason): return "invalid expression in '\(template)': \(reason)"
        case let .unknownTimeZone(name): return "unknown time zone '\(name)' (use an IANA name such as Europe/Paris)"
        }
    }
}
