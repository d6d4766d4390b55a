// Character rules for every spec value that ends up in a file name, a root-run shell script, a
// systemd unit or an env file. The generators quote what they write as well; these rules make
// `spec validate` refuse such values up front, at the value's `file:line:column`, so that a
// spec that validates never depends on the quoting being right.
//
//   rule           fields                                                    allowed
//   name           platform.name, services/infrastructure[].name,            [A-Za-z0-9] then [A-Za-z0-9._-],
//                  models.packs[].name, bases[].name                         at most 64, no ".."
//   project        installer.composeProject                                  [a-z0-9] then [a-z0-9_-] (Compose's rule)
//   absolutePath   installer.prefix/envFile/dataDir, models.store,           "/" then [A-Za-z0-9._@+-] components;
//                  telemetry.dir                                             no "", "." or ".." component
//   unitName       installer.unit, installer.firstBootUnit                   [A-Za-z0-9:_.@-], ending ".service"
//   unitText       platform.displayName                                      no control characters, no "\" or "%"
//   marker         qa.boot.marker                                            [A-Za-z0-9._:=-], at most 128
//   envKey         installer.env / services[].env keys, secrets[].name       [A-Za-z_][A-Za-z0-9_]*
//   envValue       installer.env / services[].env values                     no control characters (a newline
//                                                                            would add keys to the env file)
//   userName       targets.wsl.defaultUser                                   [a-z_][a-z0-9_-]{0,31}
import UnisonCore
import UnisonYAML

/// What a spec value may hold, by where it ends up.
package enum SpecCharacterRule: String, Sendable, CaseIterable {
    case name, project, absolutePath, unitName, unitText, marker, envKey, envValue, userName

    /// Nil when `value` obeys the rule, else what is wrong with it, for a person.
    package func problem(_ value: String) -> String? {
        func only(_ allowed: (Unicode.Scalar) -> Bool) -> Bool { value.unicodeScalars.allSatisfy(allowed) }
        func ascii(_ s: Unicode.Scalar, _ extra: String) -> Bool {
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || extra.unicodeScalars.contains(s))
        }
        switch self {
        case .name:
            guard !value.isEmpty, value.count <= 64 else { return "must be 1 to 64 characters" }
            guard let first = value.unicodeScalars.first, ascii(first, "") else { return "must start with a letter or a digit" }
            guard only({ ascii($0, "._-") }) else { return "may only hold letters, digits, '.', '_' and '-'" }
            return value.contains("..") ? "must not contain '..'" : nil
        case .project:
            guard let first = value.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else {
                return "must start with a lowercase letter or a digit"
            }
            guard value.count <= 64, only({ $0.isASCII && (("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }) else {
                return "may only hold lowercase letters, digits, '_' and '-' (at most 64)"
            }
            return nil
        case .absolutePath:
            guard value.hasPrefix("/") else { return "must be an absolute path" }
            guard value.count <= 1024, only({ ascii($0, "/._@+-") }) else {
                return "may only hold letters, digits, '/', '.', '_', '@', '+' and '-'"
            }
            guard value != "/" else { return "must not be the root directory" }
            for component in value.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                if component.isEmpty { return "must not hold an empty component ('//' or a trailing '/')" }
                if component == "." || component == ".." { return "must not hold a '\(component)' component" }
            }
            return nil
        case .unitName:
            guard value.hasSuffix(".service"), value.count > 8, value.count <= 255 else { return "must name a .service unit" }
            guard !value.hasPrefix("-"), only({ ascii($0, ":_.@-") }) else {
                return "may only hold letters, digits, ':', '_', '.', '@' and '-'"
            }
            return nil
        case .unitText:
            guard value.count <= 256 else { return "must be at most 256 characters" }
            if let bad = value.unicodeScalars.first(where: Self.isControl) { return "must not hold the control character \(Self.show(bad))" }
            if value.contains("\\") || value.contains("%") { return "must not hold '\\' or '%' (systemd escapes and specifiers)" }
            return nil
        case .marker:
            guard !value.isEmpty, value.count <= 128, only({ ascii($0, "._:=-") }) else {
                return "may only hold letters, digits, '.', '_', ':', '=' and '-' (1 to 128)"
            }
            return nil
        case .envKey:
            guard let first = value.unicodeScalars.first, ascii(first, "_"), !("0"..."9").contains(first), only({ ascii($0, "_") }) else {
                return "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
            }
            return nil
        case .envValue:
            if let bad = value.unicodeScalars.first(where: Self.isControl) {
                return "must not hold the control character \(Self.show(bad)) (a newline would add lines to the env file)"
            }
            return nil
        case .userName:
            guard let first = value.unicodeScalars.first, ("a"..."z").contains(first) || first == "_", value.count <= 32,
                only({ $0.isASCII && (("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") })
            else {
                return "is not a user name ([a-z_][a-z0-9_-], at most 32)"
            }
            return nil
        }
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7f...0x9f).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }

    static func show(_ s: Unicode.Scalar) -> String { "U+" + String(s.value, radix: 16, uppercase: true).leftPadded(4) }

    /// `text` with control characters written as `\u{…}` (backslashes kept as they are).
    package static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for s in text.unicodeScalars {
            if isControl(s) { out += "\\u{\(String(s.value, radix: 16))}" } else { out.unicodeScalars.append(s) }
        }
        return out
    }

    /// `value` with control characters written as `\u{…}`, safe to print in one line.
    package static func printable(_ value: String) -> String {
        var out = ""
        for s in value.unicodeScalars {
            if isControl(s) || s == "\\" { out += s == "\\" ? "\\\\" : "\\u{\(String(s.value, radix: 16))}" } else { out.unicodeScalars.append(s) }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// Applies `SpecCharacterRule`s to the YAML as written (so every diagnostic points at the value).
struct SpecCharacterCheck {
    let root: Node
    let sink: DiagnosticSink

    /// Fields holding one value: path from the top, and the rule.
    static let fields: [([String], SpecCharacterRule)] = [
        (["platform", "name"], .name),
        (["platform", "displayName"], .unitText),
        (["installer", "prefix"], .absolutePath),
        (["installer", "envFile"], .absolutePath),
        (["installer", "dataDir"], .absolutePath),
        (["installer", "unit"], .unitName),
        (["installer", "firstBootUnit"], .unitName),
        (["installer", "composeProject"], .project),
        (["models", "store"], .absolutePath),
        (["telemetry", "dir"], .absolutePath),
        (["qa", "boot", "marker"], .marker),
        (["targets", "wsl", "defaultUser"], .userName),
    ]

    func run() {
        for (path, rule) in Self.fields {
            if let node = lookup(root, path), let value = node.scalar?.string { check(value, node, path.joined(separator: "."), rule) }
        }
        for section in ["services", "infrastructure"] {
            for (i, item) in sequence(lookup(root, [section])).enumerated() {
                if let node = lookup(item, ["name"]), let value = node.scalar?.string { check(value, node, "\(section)[\(i)].name", .name) }
                checkEnv(lookup(item, ["env"]), "\(section)[\(i)].env")
            }
        }
        for (i, item) in sequence(lookup(root, ["models", "packs"])).enumerated() {
            if let node = lookup(item, ["name"]), let value = node.scalar?.string { check(value, node, "models.packs[\(i)].name", .name) }
        }
        for (i, item) in sequence(lookup(root, ["bases"])).enumerated() {
            if let node = lookup(item, ["name"]), let value = node.scalar?.string { check(value, node, "bases[\(i)].name", .name) }
        }
        checkEnv(lookup(root, ["installer", "env"]), "installer.env")
    }

    private func checkEnv(_ node: Node?, _ field: String) {
        guard case let .mapping(map)? = node else { return }
        for (key, value) in map {
            if let k = key.scalar?.string { check(k, key, "\(field) key", .envKey) }
            if let v = value.scalar?.string { check(v, value, "\(field).\(key.scalar?.string ?? "?")", .envValue) }
        }
    }

    private func check(_ value: String, _ node: Node, _ field: String, _ rule: SpecCharacterRule) {
        guard let problem = rule.problem(value) else { return }
        // One diagnostic per value: the section readers may have reported it already.
        let mark = node.mark
        if sink.diagnostics.contains(where: { $0.line == mark.line && $0.column == mark.column }) { return }
        sink.report(
            node, "\(field) '\(SpecCharacterRule.printable(value))' \(problem)",
            hint: "it is written into \(Self.destination(rule)); values there are data, never code")
    }

    static func destination(_ rule: SpecCharacterRule) -> String {
        switch rule {
        case .name, .project, .marker: return "file names and root-run scripts"
        case .absolutePath: return "file names, scripts and systemd units"
        case .unitName: return "systemd unit file names"
        case .unitText: return "systemd units"
        case .envKey, .envValue: return "the env file"
        case .userName: return "/etc/wsl.conf and the image's user database"
        }
    }

    private func lookup(_ node: Node?, _ path: [String]) -> Node? {
        var current = node
        for key in path {
            guard case let .mapping(map)? = current else { return nil }
            current = map.first { $0.key.scalar?.string == key }?.value
        }
        return current
    }

    private func sequence(_ node: Node?) -> [Node] {
        if case let .sequence(seq)? = node { return Array(seq) }
        return []
    }
}

/// A spec that is not UTF-8: where the first bad byte is, for a `file:line:column` diagnostic.
enum SpecEncoding {
    /// Nil when `bytes` are valid UTF-8; else the 1-based line and column (in characters) of
    /// the first byte that is not, and its offset.
    static func firstInvalid(_ bytes: [UInt8]) -> (line: Int, column: Int, offset: Int)? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        var line = 1
        var column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
                offset += encoded.count
            case .emptyInput:
                return nil
            case .error:
                return (line, column, offset)
            }
        }
    }
}
