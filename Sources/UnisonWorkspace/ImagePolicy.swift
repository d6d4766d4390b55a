import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Judges image references against the platform's naming and pinning rules:
///
/// - The platform's own images are `<registry>/<org>/<repo>` (`ghcr.io/project-unisonos/unison-auth`),
///   lowercase, for a repo of the spec.
/// - Where a release is assembled (Compose files of the `platform` repo, the release bundle)
///   an own image is pinned by a version tag (`v1.2.3`, `1.2.3`, pre-releases included) or a digest.
/// - Elsewhere (devstack, service repos, workflows, Dockerfiles) channel tags are fine too:
///   those the spec's channels publish (`edge-main`, `edge-main-YYYYMMDD`, `sha-<hex>`,
///   `vX.Y`, `vX`). `latest`, no tag, and any tag no channel publishes are mutable.
/// - A third-party image has an explicit tag other than `latest`, or a digest.
///
/// A tag given entirely by a variable without a default (`:${UNISON_VERSION}`) is taken as
/// pinned where the variable is set (the installer's env file) and not reported.
struct ImagePolicy {
    let spec: PlatformSpec
    private let channelMatchers: [TagMatcher]

    init(spec: PlatformSpec) {
        self.spec = spec
        channelMatchers = spec.channels.flatMap(\.tags).compactMap(TagMatcher.init(rule:))
    }

    var registry: String { spec.platform.registry.lowercased() }
    var org: String { spec.platform.org.lowercased() }

    /// True for a reference to one of the platform's own images, however misspelt: the
    /// registry namespace is the org, or the name is a repo of the spec, or a Unison-named
    /// namespace holds a service or `unison-*` name.
    func isOwn(_ ref: ImageReference) -> Bool {
        let components = ref.components.map { $0.lowercased() }
        guard let last = components.last else { return false }
        if ref.host?.lowercased() == registry, components.first == org, components.count > 1 { return true }
        if spec.repos.contains(where: { $0.name.lowercased() == last }) { return true }
        let unisonNamespace = components.dropLast().contains { $0.contains("unison") }
        return unisonNamespace && (last.hasPrefix("unison-") || spec.services.contains { $0.name == last })
    }

    /// `ghcr.io/project-unisonos/<repo>` for an own image.
    func expectedName(_ ref: ImageReference) -> String {
        "\(registry)/\(org)/\(ref.repositoryName.lowercased())"
    }

    /// A tag that pins a release: a full SemVer version.
    func isReleasePin(_ tag: String) -> Bool { SemVer(tag) != nil }

    /// A tag the spec's channels publish, or a version.
    func isChannelTag(_ tag: String) -> Bool {
        if SemVer(tag) != nil { return true }
        if Self.isPartialVersion(tag) { return true }
        return channelMatchers.contains { $0.matches(tag) }
    }

    /// `v1.2`, `v1`, `1.2` (what `type=semver,pattern=v{{major}}.{{minor}}` publishes).
    static func isPartialVersion(_ tag: String) -> Bool {
        var t = Substring(tag)
        if t.first == "v" { t = t.dropFirst() }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// A tag shape one channel rule publishes: `type=raw,value=edge-{{branch}}-{{date 'YYYYMMDD'}}`
/// gives `edge-`, a branch name, `-`, then eight digits; `type=sha,prefix={{branch}}-` gives a
/// branch name, `-`, then 7 to 40 hex digits. Rules of other types (`semver`, `ref`) and values
/// unisonctl fills in (`{channel.version}`: a version, matched elsewhere) are not matched here.
struct TagMatcher {
    enum Piece: Equatable { case literal(String), digits(Int), hex, word }
    var pieces: [Piece]

    init?(rule: String) {
        var attributes: [String: String] = [:]
        for part in rule.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 {
                attributes[kv[0].trimmingSpaces] = kv[1].trimmingSpaces
            } else if kv.count == 1, part.hasSuffix("=") {
                attributes[kv[0].trimmingSpaces] = ""
            }
        }
        switch attributes["type"] {
        case "raw":
            guard let value = attributes["value"], !value.contains("{channel."), let pieces = Self.pieces(value) else { return nil }
            self.pieces = pieces
        case "sha":
            guard let prefix = Self.pieces(attributes["prefix"] ?? "sha-") else { return nil }
            pieces = prefix + [.hex]
            if let suffix = attributes["suffix"], !suffix.isEmpty { pieces.append(.literal(suffix)) }
        default:
            return nil
        }
    }

    /// Literal text with `{{date 'FORMAT'}}` and `{{branch}}` expressions.
    static func pieces(_ text: String) -> [Piece]? {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { return nil }
            let expression = rest[open.upperBound..<close.lowerBound].trimming(.whitespaces)
            if expression == "branch" {
                pieces.append(.word)
            } else {
                guard expression.hasPrefix("date"), let q1 = expression.firstIndex(of: "'"),
                    let q2 = expression[expression.index(after: q1)...].firstIndex(of: "'")
                else { return nil }
                let format = expression[expression.index(after: q1)..<q2]
                guard format.allSatisfy({ "YMDHms".contains($0) }) else { return nil }
                pieces.append(.digits(format.count))
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        return pieces
    }

    func matches(_ tag: String) -> Bool { Self.match(pieces[...], Substring(tag)) }

    /// Backtracking match: a branch name or hex run may be followed by a literal it could contain.
    static func match(_ pieces: ArraySlice<Piece>, _ rest: Substring) -> Bool {
        guard let piece = pieces.first else { return rest.isEmpty }
        let next = pieces.dropFirst()
        switch piece {
        case let .literal(text):
            return rest.hasPrefix(text) && match(next, rest.dropFirst(text.count))
        case let .digits(n):
            let head = rest.prefix(n)
            return head.count == n && head.allSatisfy({ $0.isASCII && $0.isNumber }) && match(next, rest.dropFirst(n))
        case .hex, .word:
            let allowed: (Character) -> Bool =
                piece == .hex
                ? { $0.isHexDigit && !$0.isUppercase }
                : { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            let run = rest.prefix(while: allowed).count
            let lengths = piece == .hex ? Array((7...min(40, max(7, run))).reversed()) : Array((1...max(1, run)).reversed())
            for length in lengths where length <= run {
                if match(next, rest.dropFirst(length)) { return true }
            }
            return false
        }
    }
}
