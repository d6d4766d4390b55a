import FoundationEssentials
import UnisonCore

/// docker/metadata-action (https://github.com/docker/metadata-action, src/meta.ts) reproduced:
/// for the same event, inputs and repository facts it gives the same `version`, tag list (same
/// order) and `org.opencontainers.image.*` labels.
///
/// Rules are taken in priority order (highest first, input order among equals). Each enabled
/// rule that applies to the event yields one value (prefix/suffix applied, then sanitized):
/// the first becomes `version.main`, the others `version.partial`, and the first also decides
/// `latest` (`flavor: latest=auto`: true for semver/match/`ref,event=tag`, false otherwise).
package struct MetadataAction: Sendable {
    package let context: MetadataContext
    package let repository: MetadataRepository
    package let inputs: MetadataInputs
    package let rules: [MetadataRule]
    package let flavor: MetadataFlavor
    package let images: [MetadataImage]

    package init(inputs: MetadataInputs, context: MetadataContext, repository: MetadataRepository) throws {
        self.context = context
        self.repository = repository
        self.inputs = inputs
        rules = try MetadataRule.parseAll(inputs.tags)
        flavor = try MetadataFlavor.parse(inputs.flavor)
        images = try MetadataImage.parse(inputs.images)
    }

    /// Evaluates every rule and returns the tags and labels.
    package func evaluate() throws -> MetadataResult {
        var state = VersionState()
        for var rule in rules {
            let enabled = try globalExpression(rule["enable"] ?? "true")
            guard enabled == "true" || enabled == "false" else {
                throw MetadataActionError.invalidRule(line: rule.line, reason: "enable must evaluate to true or false, got '\(enabled)'")
            }
            guard enabled == "true" else { continue }
            switch rule.type {
            case .schedule: try schedule(rule, &state)
            case .semver: try semver(rule, &state)
            case .pep440: break
            case .match: try match(rule, &state)
            case .ref:
                switch rule["event"] {
                case "branch": try refBranch(rule, &state)
                case "tag": try refTag(rule, &state)
                default: try refPR(rule, &state)
                }
            case .edge: try edge(&rule, &state)
            case .raw: try add(try value(try globalExpression(rule["value"] ?? ""), rule), latest: autoLatest(false), &state)
            case .sha:
                guard !context.sha.isEmpty else { continue }
                let sha = rule["format"] == "short" ? shortSHA : context.sha
                try add(try value(sha, rule), latest: autoLatest(false), &state)
            }
        }
        var seen = Set<String>()
        let partial = state.partial.filter { seen.insert($0).inserted }
        let version = MetadataVersion(main: state.main, partial: partial, latest: state.latest ?? false)
        let names = tagNames(version)
        let enabledImages = images.filter(\.enable).map { $0.name.lowercased() }
        let tags = version.main == nil ? [] : (enabledImages.isEmpty ? names : enabledImages.flatMap { image in names.map { "\(image):\($0)" } })
        return MetadataResult(
            version: version, tags: tags, tagNames: names,
            labels: try labels(version: version.main), warnings: state.warnings)
    }

    // MARK: - Rule types

    struct VersionState {
        var main: String?
        var partial: [String] = []
        var latest: Bool?
        var warnings: [String] = []
    }

    /// `flavor: latest=auto` lets the rule decide; true/false override it.
    func autoLatest(_ ruleDefault: Bool) -> Bool {
        flavor.latest == "auto" ? ruleDefault : flavor.latest == "true"
    }

    func add(_ raw: String, latest: Bool, _ state: inout VersionState) throws {
        guard !raw.isEmpty else { return }
        let tag = MetadataJS.sanitizeTag(raw)
        if state.main == nil {
            state.main = tag
        } else if tag != state.main {
            state.partial.append(tag)
        }
        if state.latest == nil { state.latest = latest }
    }

    var isTagRef: Bool { context.ref.hasPrefix("refs/tags/") }
    var isBranchRef: Bool { context.ref.hasPrefix("refs/heads/") }
    var tagName: String { String(context.ref.dropFirst("refs/tags/".count)) }
    var branchName: String { String(context.ref.dropFirst("refs/heads/".count)) }

    var shortSHA: String {
        context.shortSHALength >= context.sha.count ? context.sha : String(context.sha.prefix(context.shortSHALength))
    }

    func schedule(_ rule: MetadataRule, _ state: inout VersionState) throws {
        guard context.eventName.contains("schedule") else { return }
        let pattern = rule["pattern"] ?? "nightly"
        let text = try MetadataTemplate.render(pattern) { name in
            switch name {
            case "date": return dateHelper(context.date)
            case "commit_date": return dateHelper(context.commitDate)
            default: return nil
            }
        }
        try add(try value(text, rule), latest: autoLatest(false), &state)
    }

    /// The version source shared by semver and match: the `value` attribute (an expression),
    /// else the pushed tag; nil when neither applies.
    func versionSource(_ rule: MetadataRule) throws -> String? {
        let value = rule["value"] ?? ""
        if !value.isEmpty { return try globalExpression(value) }
        return isTagRef ? tagName : nil
    }

    func semver(_ rule: MetadataRule, _ state: inout VersionState) throws {
        guard var raw = try versionSource(rule) else { return }
        let matchPattern = rule["match"] ?? ""
        if !matchPattern.isEmpty {
            let regex = try MetadataRegex(source: matchPattern, flags: "", line: rule.line)
            if let groups = try regex.match(raw) {
                guard groups.count > 1, let group = groups[1] else {
                    throw MetadataActionError.invalidRule(line: rule.line, reason: "match pattern '\(matchPattern)' has no capture group 1")
                }
                raw = group
            } else {
                state.warnings.append("\(matchPattern) does not match \(raw).")
            }
        }
        raw = raw.replacing("/", with: "-")
        guard let version = NodeSemver(raw) else {
            state.warnings.append("\(raw) is not a valid semver. More info: https://semver.org/")
            return
        }
        let pattern = rule["pattern"] ?? ""
        let rendered: String
        var latest = false
        if version.isPrerelease {
            // Pre-releases only ever get {{version}} (or {{raw}} when that is the whole pattern).
            let template = MetadataTemplate.isRawStatement(pattern) ? pattern : "{{version}}"
            rendered = try MetadataTemplate.render(template, lookup: version.lookup)
        } else {
            rendered = try MetadataTemplate.render(pattern, lookup: version.lookup)
            latest = true
        }
        try add(try value(rendered, rule), latest: autoLatest(latest), &state)
    }

    func match(_ rule: MetadataRule, _ state: inout VersionState) throws {
        guard let raw = try versionSource(rule) else { return }
        let pattern = rule["pattern"] ?? ""
        let regex: MetadataRegex
        if pattern.count > 2, pattern.hasPrefix("/"), let close = pattern.dropFirst().lastIndex(of: "/"),
            close > pattern.index(after: pattern.startIndex)
        {
            // `/source/flags`
            regex = try MetadataRegex(
                source: String(pattern[pattern.index(after: pattern.startIndex)..<close]),
                flags: String(pattern[pattern.index(after: close)...]), line: rule.line)
        } else {
            regex = try MetadataRegex(source: pattern, flags: "", line: rule.line)
        }
        guard let groups = try regex.match(raw) else {
            state.warnings.append("\(pattern) does not match \(raw).")
            return
        }
        let groupText = rule["group"] ?? "0"
        guard let index = Int(groupText), String(index) == groupText, index >= 0, index < groups.count, let text = groups[index] else {
            state.warnings.append("Group \(groupText) does not exist for \(pattern) pattern.")
            return
        }
        try add(try value(text, rule), latest: autoLatest(true), &state)
    }

    func refBranch(_ rule: MetadataRule, _ state: inout VersionState) throws {
        guard isBranchRef else { return }
        try add(try value(branchName, rule), latest: autoLatest(false), &state)
    }

    func refTag(_ rule: MetadataRule, _ state: inout VersionState) throws {
        guard isTagRef else { return }
        try add(try value(tagName, rule), latest: autoLatest(true), &state)
    }

    func refPR(_ rule: MetadataRule, _ state: inout VersionState) throws {
        guard context.ref.hasPrefix("refs/pull/") else { return }
        var number = String(context.ref.dropFirst("refs/pull/".count))
        if number.hasSuffix("/merge") { number.removeLast("/merge".count) }
        try add(try value(number, rule), latest: autoLatest(false), &state)
    }

    func edge(_ rule: inout MetadataRule, _ state: inout VersionState) throws {
        guard isBranchRef else { return }
        if (rule["branch"] ?? "").isEmpty { rule["branch"] = repository.defaultBranch }
        guard rule["branch"] == branchName else { return }
        try add(try value("edge", rule), latest: autoLatest(false), &state)
    }

    /// Prefix and suffix: the rule's own (even when empty) win over the flavor's.
    func value(_ text: String, _ rule: MetadataRule) throws -> String {
        var out = text
        if let prefix = rule["prefix"] {
            out = try globalExpression(prefix) + out
        } else if !flavor.prefix.isEmpty {
            out = try globalExpression(flavor.prefix) + out
        }
        if let suffix = rule["suffix"] {
            out += try globalExpression(suffix)
        } else if !flavor.suffix.isEmpty {
            out += try globalExpression(flavor.suffix)
        }
        return out
    }

    func tagNames(_ version: MetadataVersion) -> [String] {
        guard let main = version.main else { return [] }
        var names = [main] + version.partial
        if version.latest {
            let latest = (flavor.prefixLatest ? flavor.prefix : "") + "latest" + (flavor.suffixLatest ? flavor.suffix : "")
            names.append(MetadataJS.sanitizeTag(latest))
        }
        return names
    }

    // MARK: - Global expressions

    /// `{{branch}}`, `{{tag}}`, `{{sha}}`, `{{base_ref}}`, `{{is_default_branch}}`,
    /// `{{is_not_default_branch}}`, `{{date 'FORMAT' tz='ZONE'}}`, `{{commit_date …}}`.
    package func globalExpression(_ template: String) throws -> String {
        try MetadataTemplate.render(template, lookup: globalLookup)
    }

    var isDefaultBranch: Bool {
        let branch = context.ref.hasPrefix("refs/heads/") ? branchName : context.ref
        guard !branch.isEmpty else { return false }
        if let d = context.payloadDefaultBranch, d == branch { return true }
        // These events always run on the default branch's last commit.
        let e = context.eventName
        return e.contains("create") || e.contains("discussion") || e.contains("issues") || e.contains("schedule")
    }

    func globalLookup(_ name: String) -> TemplateEntry? {
        let context = self.context
        switch name {
        case "branch": return .helper { _, _ in .string(isBranchRef ? branchName : "") }
        case "tag": return .helper { _, _ in .string(isTagRef ? tagName : "") }
        case "sha": return .helper { _, _ in .string(shortSHA) }
        case "base_ref":
            return .helper { _, _ in
                if isTagRef, let base = context.baseRef {
                    return .string(base.hasPrefix("refs/heads/") ? String(base.dropFirst("refs/heads/".count)) : base)
                }
                if context.ref.hasPrefix("refs/pull/"), let base = context.pullRequestBaseRef { return .string(base) }
                return .string("")
            }
        case "is_default_branch": let v = isDefaultBranch; return .helper { _, _ in .string(v ? "true" : "false") }
        case "is_not_default_branch": let v = isDefaultBranch; return .helper { _, _ in .string(v ? "false" : "true") }
        case "date": return dateHelper(context.date)
        case "commit_date": return dateHelper(context.commitDate)
        default: return nil
        }
    }

    func dateHelper(_ date: Date) -> TemplateEntry {
        .helper { params, hash in
            guard params.count == 1 else {
                throw MetadataActionError.invalidTemplate(template: "date", reason: "date takes one format, e.g. {{date 'YYYYMMDD'}}")
            }
            var zone = "UTC"
            for (key, value) in hash {
                guard key == "tz" else { throw MetadataActionError.invalidTemplate(template: "date", reason: "unknown \(key) attribute") }
                zone = value.text
            }
            let formatter = try MomentFormat(zone: zone)
            var format = params[0].text
            if format.isEmpty {
                // moment's default formats, for a zero and a non-zero UTC offset.
                format = formatter.timeZone.secondsFromGMT(for: date) == 0 ? "YYYY-MM-DDTHH:mm:ss[Z]" : "YYYY-MM-DDTHH:mm:ssZ"
            }
            return .string(formatter.format(date, format))
        }
    }

    // MARK: - Labels

    /// The eight OCI labels, then `labels:` inputs (expressions evaluated); one per key (the last
    /// wins), sorted by key the way JavaScript's `localeCompare` sorts them.
    func labels(version: String?) throws -> [String] {
        var entries = [
            "org.opencontainers.image.title=\(repository.name)",
            "org.opencontainers.image.description=\(repository.description)",
            "org.opencontainers.image.url=\(repository.url)",
            "org.opencontainers.image.source=\(repository.url)",
            "org.opencontainers.image.version=\(version ?? "")",
            "org.opencontainers.image.created=\(Self.isoString(context.date))",
            "org.opencontainers.image.revision=\(context.sha)",
            "org.opencontainers.image.licenses=\(repository.license)",
        ]
        for label in MetadataInput.lines(inputs.labels) {
            entries.append(try globalExpression(label))
        }
        var keys: [String] = []
        var values: [String: String] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count > 1 else { continue }
            let key = String(parts[0])
            if values[key] == nil { keys.append(key) }
            values[key] = parts.dropFirst().joined(separator: "=")
        }
        return keys.sorted { LocaleCollation.compare($0, $1) < 0 }.map { "\($0)=\(values[$0]!)" }
    }

    /// `Date.prototype.toISOString()`: UTC with milliseconds.
    package static func isoString(_ date: Date) -> String {
        let t = LocalTime(date: date, timeZone: .utc)
        func pad(_ n: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return
            "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)).\(pad(t.millisecond, 3))Z"
    }
}
