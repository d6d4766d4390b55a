import FoundationEssentials
import UnisonCore

// docker/metadata-action's rule language (src/tag.ts, src/flavor.ts, src/image.ts), evaluated
// with the same results. Each input line is one CSV record (csv-parse: comma separated, a field
// may be double-quoted with "" for a quote); each field is `key=value` split at the first `=`,
// or a bare value.

/// The type of a `tags:` line.
package enum MetadataRuleType: String, Sendable, CaseIterable, Codable {
    case schedule, semver, pep440, match, edge, ref, raw, sha

    /// Default priorities: the order tags come out in, highest first.
    package var defaultPriority: String {
        switch self {
        case .schedule: return "1000"
        case .semver, .pep440: return "900"
        case .match: return "800"
        case .edge: return "700"
        case .ref: return "600"
        case .raw: return "200"
        case .sha: return "100"
        }
    }
}

/// One parsed `tags:` line: its type and attributes with the action's defaults filled in.
package struct MetadataRule: Sendable, Equatable {
    package var type: MetadataRuleType
    /// Attribute names are lowercased; insertion order is kept for `description`.
    package var attrs: [(key: String, value: String)]
    package var line: String

    package subscript(_ key: String) -> String? {
        get { attrs.first { $0.key == key }?.value }
        set {
            if let i = attrs.firstIndex(where: { $0.key == key }) {
                if let newValue { attrs[i].value = newValue } else { attrs.remove(at: i) }
            } else if let newValue {
                attrs.append((key, newValue))
            }
        }
    }

    package func has(_ key: String) -> Bool { attrs.contains { $0.key == key } }

    package static func == (a: MetadataRule, b: MetadataRule) -> Bool {
        a.type == b.type && a.line == b.line && a.attrs.map(\.key) == b.attrs.map(\.key) && a.attrs.map(\.value) == b.attrs.map(\.value)
    }

    /// The lines used when no `tags:` are given.
    package static let defaultLines = ["type=schedule", "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr"]

    /// Parses every line (blank lines and `#` comment lines dropped) and orders them by
    /// priority, highest first. The order is the one JavaScript's `Array.prototype.sort` (V8)
    /// gives with the action's comparator: stable for numbers, and the same placement when a
    /// priority is not a number (the comparator then calls it equal to everything).
    package static func parseAll(_ lines: [String]) throws -> [MetadataRule] {
        var inputs = MetadataInput.lines(lines)
        if inputs.isEmpty { inputs = defaultLines }
        let rules = try inputs.map(parse)
        return V8Sort.sorted(rules) { a, b in
            let pa = MetadataJS.number(a["priority"] ?? "") ?? .nan
            let pb = MetadataJS.number(b["priority"] ?? "") ?? .nan
            if pa < pb { return 1 }
            if pa > pb { return -1 }
            return 0
        }
    }

    package static func parse(_ line: String) throws -> MetadataRule {
        let fields = try MetadataCSV.firstRecord(line)
        var type: MetadataRuleType?
        var rule = MetadataRule(type: .raw, attrs: [], line: line)
        for field in fields {
            // Split at the first `=` that has at least one character before it.
            if let eq = field.firstIndex(of: "="), eq != field.startIndex {
                let key = field[..<eq].trimming(.whitespaces).lowercased()
                let value = field[field.index(after: eq)...].trimming(.whitespaces)
                if key == "type" {
                    guard let t = MetadataRuleType(rawValue: value) else {
                        throw MetadataActionError.invalidRule(line: line, reason: "unknown tag type '\(value)'")
                    }
                    type = t
                } else {
                    rule[key] = value
                }
            } else {
                rule["value"] = field.trimming(.whitespaces)
            }
        }
        rule.type = type ?? .raw
        switch rule.type {
        case .schedule:
            if !rule.has("pattern") { rule["pattern"] = "nightly" }
        case .semver, .pep440:
            guard rule.has("pattern") else { throw MetadataActionError.invalidRule(line: line, reason: "missing pattern attribute") }
            if rule.type == .pep440 {
                throw MetadataActionError.invalidRule(line: line, reason: "type=pep440 is not supported by unisonctl (use type=semver)")
            }
            if !rule.has("value") { rule["value"] = "" }
            if !rule.has("match") { rule["match"] = "" }
        case .match:
            guard rule.has("pattern") else { throw MetadataActionError.invalidRule(line: line, reason: "missing pattern attribute") }
            if !rule.has("group") { rule["group"] = "0" }
            guard MetadataJS.number(rule["group"] ?? "") != nil else {
                throw MetadataActionError.invalidRule(line: line, reason: "invalid match group '\(rule["group"] ?? "")'")
            }
            if !rule.has("value") { rule["value"] = "" }
        case .edge:
            if !rule.has("branch") { rule["branch"] = "" }
        case .ref:
            guard let event = rule["event"] else { throw MetadataActionError.invalidRule(line: line, reason: "missing event attribute") }
            guard ["branch", "tag", "pr"].contains(event) else {
                throw MetadataActionError.invalidRule(line: line, reason: "invalid event '\(event)' (branch, tag or pr)")
            }
            if event == "pr", !rule.has("prefix") { rule["prefix"] = "pr-" }
        case .raw:
            guard rule.has("value") else { throw MetadataActionError.invalidRule(line: line, reason: "missing value attribute") }
        case .sha:
            if !rule.has("prefix") { rule["prefix"] = "sha-" }
            if !rule.has("format") { rule["format"] = "short" }
            guard ["short", "long"].contains(rule["format"] ?? "") else {
                throw MetadataActionError.invalidRule(line: line, reason: "invalid format '\(rule["format"] ?? "")' (short or long)")
            }
        }
        if !rule.has("enable") { rule["enable"] = "true" }
        if !rule.has("priority") { rule["priority"] = rule.type.defaultPriority }
        return rule
    }
}

/// The `flavor:` input: `latest=auto|true|false`, `prefix=…[,onlatest=…]`, `suffix=…[,onlatest=…]`.
package struct MetadataFlavor: Sendable, Equatable {
    package var latest = "auto"
    package var prefix = ""
    package var prefixLatest = false
    package var suffix = ""
    package var suffixLatest = false

    package init() {}

    package static func parse(_ lines: [String]) throws -> MetadataFlavor {
        var flavor = MetadataFlavor()
        for line in MetadataInput.lines(lines) {
            var onLatestFor = ""
            for field in try MetadataCSV.firstRecord(line) {
                // flavor.ts splits at every `=` and keeps the second part.
                let parts = field.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimming(.whitespaces) }
                guard parts.count > 1 else { throw MetadataActionError.invalidRule(line: line, reason: "invalid flavor entry") }
                let value = parts[1]
                switch parts[0].lowercased() {
                case "latest":
                    guard ["auto", "true", "false"].contains(value) else {
                        throw MetadataActionError.invalidRule(line: line, reason: "latest must be auto, true or false")
                    }
                    flavor.latest = value
                case "prefix":
                    flavor.prefix = value
                    onLatestFor = "prefix"
                case "suffix":
                    flavor.suffix = value
                    onLatestFor = "suffix"
                case "onlatest":
                    guard ["true", "false"].contains(value) else {
                        throw MetadataActionError.invalidRule(line: line, reason: "onlatest must be true or false")
                    }
                    if onLatestFor == "prefix" { flavor.prefixLatest = value == "true" }
                    if onLatestFor == "suffix" { flavor.suffixLatest = value == "true" }
                default:
                    throw MetadataActionError.invalidRule(line: line, reason: "unknown flavor entry '\(parts[0])'")
                }
            }
        }
        return flavor
    }
}

/// The `images:` input: `name[,enable=true|false]` lines, or the older single comma list.
package struct MetadataImage: Sendable, Equatable {
    package var name: String
    package var enable: Bool

    package static func parse(_ lines: [String]) throws -> [MetadataImage] {
        let inputs = MetadataInput.lines(lines)
        if inputs.count == 1 {
            let fields = try MetadataCSV.firstRecord(inputs[0])
            if !fields.contains(where: { $0.contains("=") }) {
                return fields.map { MetadataImage(name: $0.trimming(.whitespaces), enable: true) }
            }
        }
        return try inputs.map { line in
            var image = MetadataImage(name: "", enable: true)
            for field in try MetadataCSV.firstRecord(line) {
                let parts = field.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimming(.whitespaces) }
                if parts.count == 1 {
                    image.name = parts[0]
                    continue
                }
                switch parts[0].lowercased() {
                case "name": image.name = parts[1]
                case "enable":
                    guard ["true", "false"].contains(parts[1]) else {
                        throw MetadataActionError.invalidRule(line: line, reason: "enable must be true or false")
                    }
                    image.enable = parts[1] == "true"
                default: throw MetadataActionError.invalidRule(line: line, reason: "unknown image attribute '\(parts[0])'")
                }
            }
            guard !image.name.isEmpty else { throw MetadataActionError.invalidRule(line: line, reason: "image name is empty") }
            return image
        }
    }
}

/// How the action reads a multi-line input (actions-toolkit `Util.getInputList` with
/// `ignoreComma`): the whole text is trimmed and read as CSV with relaxed quotes, `#` lines
/// are comments and empty lines are skipped; a record of several fields is joined back with
/// commas, so quotes are removed here before each line is parsed again as a rule.
enum MetadataInput {
    static func lines(_ inputs: [String]) -> [String] {
        let text = inputs.joined(separator: "\n").trimming(.whitespacesAndNewlines)
        guard !text.isEmpty else { return [] }
        return relaxedRecords(text)
            .map { $0.count == 1 ? $0[0] : $0.joined(separator: ",") }
            .filter { !$0.isEmpty }
            .map { $0.trimming(.whitespaces) }
    }

    /// csv-parse with `relax_quotes`, `comment: '#'`, `comment_no_infix`, `skip_empty_lines`.
    static func relaxedRecords(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var fieldStart = true
        var inComment = false
        let chars = Array(text)
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(fields) }
            fields = []; field = ""; fieldStart = true
        }
        while i < chars.count {
            let c = chars[i]
            if inComment {
                if c == "\n" || c == "\r\n" { inComment = false; fields = []; field = ""; fieldStart = true }
                i += 1; continue
            }
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { field.append("\""); i += 2; continue }
                    let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
                    if next == nil || next == "," || next == "\n" || next == "\r\n" || next == "\r" {
                        quoted = false; i += 1; continue
                    }
                    // Relaxed: a quote inside a quoted field that does not close it is kept.
                    field.append(c); i += 1; continue
                }
                field.append(c); i += 1; continue
            }
            switch c {
            case "#" where fieldStart && fields.isEmpty && field.isEmpty:
                inComment = true
            case ",":
                fields.append(field); field = ""; fieldStart = true
            case "\n", "\r\n", "\r":
                endRecord()
            case "\"" where fieldStart:
                quoted = true; fieldStart = false
            default:
                field.append(c); fieldStart = false
            }
            i += 1
        }
        if !inComment { endRecord() }
        return records
    }
}

/// The subset of csv-parse the action relies on: the first record of a line.
enum MetadataCSV {
    static func firstRecord(_ line: String) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var chars = Array(line)
        if chars.last == "\r" { chars.removeLast() }
        var i = 0
        var quoted = false
        var fieldStart = true
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        current.append("\""); i += 2; continue
                    }
                    quoted = false
                    // After a closing quote only a delimiter or the end may follow.
                    if i + 1 < chars.count, chars[i + 1] != "," {
                        throw MetadataActionError.invalidRule(line: line, reason: "invalid closing quote at column \(i + 1)")
                    }
                    i += 1; continue
                }
                current.append(c); i += 1; continue
            }
            switch c {
            case ",":
                fields.append(current); current = ""; fieldStart = true
            case "\"":
                guard fieldStart else {
                    throw MetadataActionError.invalidRule(line: line, reason: "invalid opening quote at column \(i + 1)")
                }
                quoted = true; fieldStart = false
            default:
                current.append(c); fieldStart = false
            }
            i += 1
        }
        if quoted { throw MetadataActionError.invalidRule(line: line, reason: "quote not closed") }
        fields.append(current)
        return fields
    }
}

/// V8's `Array.prototype.sort` for arrays shorter than 64 elements (one run: the initial
/// ascending/descending run, then binary insertion sort), so that comparators that are not
/// consistent (NaN priorities) order elements exactly as the action's runtime does. Longer
/// arrays fall back to a stable sort, which agrees whenever the comparator is consistent.
enum V8Sort {
    static func sorted<T>(_ input: [T], by compare: (T, T) -> Int) -> [T] {
        var a = input
        let n = a.count
        guard n >= 2 else { return a }
        guard n < 64 else {
            return a.enumerated().sorted { x, y in
                let c = compare(x.element, y.element)
                return c != 0 ? c < 0 : x.offset < y.offset
            }.map(\.element)
        }
        // CountAndMakeRun
        var runLength = 2
        let descending = compare(a[1], a[0]) < 0
        var previous = a[1]
        var i = 2
        while i < n {
            let order = compare(a[i], previous)
            if descending ? order >= 0 : order < 0 { break }
            previous = a[i]
            runLength += 1
            i += 1
        }
        if descending { a[0..<runLength].reverse() }
        // BinaryInsertionSort(low: 0, start: runLength, high: n)
        var start = runLength
        while start < n {
            let pivot = a[start]
            var left = 0, right = start
            while left < right {
                let mid = left + ((right - left) >> 1)
                if compare(pivot, a[mid]) < 0 { right = mid } else { left = mid + 1 }
            }
            var p = start
            while p > left { a[p] = a[p - 1]; p -= 1 }
            a[left] = pivot
            start += 1
        }
        return a
    }
}
