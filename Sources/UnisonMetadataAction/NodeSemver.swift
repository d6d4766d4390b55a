import FoundationEssentials
import UnisonCore

/// A version as node-semver parses it in strict mode (what the action accepts for
/// `type=semver`), with the fields its `pattern` template can name.
struct NodeSemver {
    let raw: String
    let version: SemVer

    /// node-semver's FULL grammar: optional lowercase `v`, surrounding whitespace trimmed, at
    /// most 256 characters, numbers within JavaScript's safe integer range.
    init?(_ text: String) {
        guard text.count <= 256 else { return nil }
        let trimmed = text.trimming(.whitespacesAndNewlines)
        guard !trimmed.hasPrefix("V"), let v = SemVer(trimmed) else { return nil }
        let maxSafe: UInt64 = (1 << 53) - 1
        guard v.major <= maxSafe, v.minor <= maxSafe, v.patch <= maxSafe else { return nil }
        raw = text
        version = v
    }

    var isPrerelease: Bool { version.isPrerelease }

    /// `{{version}}` is MAJOR.MINOR.PATCH[-PRE] (no `v`, no build metadata).
    var versionString: String {
        var s = "\(version.major).\(version.minor).\(version.patch)"
        if version.isPrerelease { s += "-" + version.prerelease.map(\.description).joined(separator: ".") }
        return s
    }

    func lookup(_ name: String) -> TemplateEntry? {
        switch name {
        case "raw": return .value(.string(raw))
        case "version": return .value(.string(versionString))
        case "major": return .value(.number(Double(version.major)))
        case "minor": return .value(.number(Double(version.minor)))
        case "patch": return .value(.number(Double(version.patch)))
        case "prerelease":
            return .value(
                .array(
                    version.prerelease.map {
                        if case let .numeric(n) = $0, n < (1 << 53) - 1 { return .number(Double(n)) }
                        return .string($0.description)
                    }))
        case "build": return .value(.array(version.build.map { .string($0) }))
        case "loose": return .value(.bool(true))
        case "includePrerelease": return .value(.bool(false))
        case "options": return .value(.object)
        default: return nil
        }
    }
}
