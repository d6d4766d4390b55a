/// A Semantic Versioning 2.0.0 version (https://semver.org), parsed strictly.
///
/// Git tags may carry a leading `v`; it is remembered in `hasPrefixV` so that a version read
/// from a tag prints back as the same tag, and ignored for comparison.
package struct SemVer: Sendable, Hashable, Comparable, StringCodable {
    package enum Identifier: Sendable, Hashable, Comparable, CustomStringConvertible {
        case numeric(UInt64)
        case alphanumeric(String)

        package var description: String {
            switch self {
            case let .numeric(n): return String(n)
            case let .alphanumeric(s): return s
            }
        }

        /// §11.4: numeric identifiers compare numerically and sort before alphanumeric ones,
        /// which compare in ASCII order.
        package static func < (a: Identifier, b: Identifier) -> Bool {
            switch (a, b) {
            case let (.numeric(x), .numeric(y)): return x < y
            case (.numeric, .alphanumeric): return true
            case (.alphanumeric, .numeric): return false
            case let (.alphanumeric(x), .alphanumeric(y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            }
        }
    }

    package var major: UInt64
    package var minor: UInt64
    package var patch: UInt64
    package var prerelease: [Identifier]
    package var build: [String]
    package var hasPrefixV: Bool

    package init(
        _ major: UInt64, _ minor: UInt64, _ patch: UInt64, prerelease: [Identifier] = [],
        build: [String] = [], hasPrefixV: Bool = false
    ) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
        self.hasPrefixV = hasPrefixV
    }

    /// Parses `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, with an optional leading `v` or `V`.
    /// Returns nil for anything the spec's grammar rejects (leading zeros, empty identifiers, …).
    package init?(_ text: String) {
        var s = Substring(text)
        var v = false
        if let first = s.first, first == "v" || first == "V" { v = true; s = s.dropFirst() }
        var buildPart: Substring?
        if let plus = s.firstIndex(of: "+") {
            buildPart = s[s.index(after: plus)...]
            s = s[..<plus]
        }
        var prePart: Substring?
        if let dash = s.firstIndex(of: "-") {
            prePart = s[s.index(after: dash)...]
            s = s[..<dash]
        }
        let core = s.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3,
            let major = Self.numeric(core[0]), let minor = Self.numeric(core[1]), let patch = Self.numeric(core[2])
        else { return nil }
        var pre: [Identifier] = []
        if let prePart {
            for part in prePart.split(separator: ".", omittingEmptySubsequences: false) {
                guard !part.isEmpty, part.allSatisfy(Self.isIdentifierCharacter) else { return nil }
                if part.allSatisfy(\.isASCIIDigit) {
                    guard let n = Self.numeric(part) else { return nil }
                    pre.append(.numeric(n))
                } else {
                    pre.append(.alphanumeric(String(part)))
                }
            }
        }
        var build: [String] = []
        if let buildPart {
            for part in buildPart.split(separator: ".", omittingEmptySubsequences: false) {
                guard !part.isEmpty, part.allSatisfy(Self.isIdentifierCharacter) else { return nil }
                build.append(String(part))
            }
        }
        self.init(major, minor, patch, prerelease: pre, build: build, hasPrefixV: v)
    }

    private static func isIdentifierCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-")
    }

    /// A numeric identifier: digits only, no leading zero unless it is "0".
    private static func numeric(_ s: Substring) -> UInt64? {
        guard !s.isEmpty, s.allSatisfy(\.isASCIIDigit) else { return nil }
        if s.count > 1, s.first == "0" { return nil }
        return UInt64(s)
    }

    package var isPrerelease: Bool { !prerelease.isEmpty }

    /// The version without `v`, e.g. `1.2.0-beta.1+build.5`.
    package var description: String {
        var out = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { out += "-" + prerelease.map(\.description).joined(separator: ".") }
        if !build.isEmpty { out += "+" + build.joined(separator: ".") }
        return out
    }

    /// The version as a git tag: with `v` when it was parsed with one (or `forceV`).
    package func tagString(forceV: Bool = false) -> String { (hasPrefixV || forceV ? "v" : "") + description }

    /// §11: precedence ignores build metadata; a pre-release sorts below its release.
    package static func < (a: SemVer, b: SemVer) -> Bool {
        if a.major != b.major { return a.major < b.major }
        if a.minor != b.minor { return a.minor < b.minor }
        if a.patch != b.patch { return a.patch < b.patch }
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, true): return false
        case (true, false): return false
        case (false, true): return true
        case (false, false): return a.prerelease.lexicographicallyPrecedes(b.prerelease)
        }
    }

    /// Equal in precedence (build metadata and the `v` prefix ignored).
    package func hasSamePrecedence(as other: SemVer) -> Bool { !(self < other) && !(other < self) }

    package static func == (a: SemVer, b: SemVer) -> Bool {
        a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.prerelease == b.prerelease && a.build == b.build
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(major); hasher.combine(minor); hasher.combine(patch)
        hasher.combine(prerelease); hasher.combine(build)
    }

    package static let expectedText = "a SemVer 2.0.0 version"
    /// Written with its `v` prefix when it was read with one.
    package var encodedText: String { tagString() }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
