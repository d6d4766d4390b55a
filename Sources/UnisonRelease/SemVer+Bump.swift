import UnisonCore

/// Which part of a version a change moves, from least to most significant.
package enum VersionBump: Int, Sendable, Codable, Comparable, CustomStringConvertible {
    case none = 0, patch, minor, major

    package static func < (a: VersionBump, b: VersionBump) -> Bool { a.rawValue < b.rawValue }

    package var description: String {
        switch self {
        case .none: return "none"
        case .patch: return "patch"
        case .minor: return "minor"
        case .major: return "major"
        }
    }
}

extension SemVer {
    /// The release this version leads to after a change of the given size (SemVer §6–§8):
    /// lower fields reset to zero, pre-release and build metadata are dropped, the `v` is kept.
    ///
    /// A pre-release of the target already counts as that target: bumping `2.0.0-rc.1` by
    /// `major` gives `2.0.0`, bumping `1.3.0-beta.2` by `minor` gives `1.3.0`.
    package func bumped(_ bump: VersionBump) -> SemVer {
        var out = SemVer(major, minor, patch, hasPrefixV: hasPrefixV)
        switch bump {
        case .none:
            return isPrerelease ? out : self.withoutBuild
        case .patch:
            if !isPrerelease { out.patch += 1 }
        case .minor:
            if !(isPrerelease && patch == 0) { out.minor += 1 }
            out.patch = 0
        case .major:
            if !(isPrerelease && minor == 0 && patch == 0) { out.major += 1 }
            out.minor = 0
            out.patch = 0
        }
        return out
    }

    /// This version without build metadata.
    package var withoutBuild: SemVer {
        var copy = self
        copy.build = []
        return copy
    }

    /// The next pre-release of the same line: the last numeric identifier goes up by one
    /// (`beta.1` → `beta.2`, `rc.1.5` → `rc.1.6`); without one, `.1` is appended
    /// (`beta` → `beta.1`). A release version (no pre-release) gets `-<label>.1` on its next
    /// patch, as `npm version prerelease` does.
    package func nextPrerelease(label: String = "beta") -> SemVer {
        var out = withoutBuild
        guard isPrerelease else {
            out = bumped(.patch)
            out.prerelease = [.alphanumeric(label), .numeric(1)]
            return out
        }
        if let index = out.prerelease.lastIndex(where: { if case .numeric = $0 { return true } else { return false } }),
            case let .numeric(n) = out.prerelease[index]
        {
            out.prerelease[index] = .numeric(n + 1)
        } else {
            out.prerelease.append(.numeric(1))
        }
        return out
    }

    /// `label.N` pre-release of the given release: `1.3.0` + `beta`, 4 → `1.3.0-beta.4`.
    package func withPrerelease(_ label: String, _ n: UInt64) -> SemVer {
        var out = withoutBuild
        out.prerelease = [.alphanumeric(label), .numeric(n)]
        return out
    }

    /// The number N of a `label.N` pre-release (`beta.7` → 7), nil for anything else.
    package func prereleaseNumber(label: String) -> UInt64? {
        guard prerelease.count == 2, prerelease[0] == .alphanumeric(label), case let .numeric(n) = prerelease[1] else { return nil }
        return n
    }
}
