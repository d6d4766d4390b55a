import FoundationEssentials
import UnisonCore

/// The targets a Makefile defines, read the way GNU make's rule syntax (manual §4.2, "Rule
/// Syntax") lays them out: `targets : prerequisites` on a line not starting with a tab, with
/// backslash continuations joined and comments removed; `VAR = x`, `VAR := x`, `VAR ::= x`,
/// `VAR ?= x` and `VAR += x` are assignments, not rules. `include`d files that exist beside the
/// Makefile are read too. Pattern rules (`image-%:`) match any target of their pattern.
struct MakefileTargets {
    /// Explicit targets with the line that defines them (in the top Makefile or an include).
    private(set) var targets: [String: Int] = [:]
    private(set) var patterns: [String] = []
    /// The Makefile's path, relative to its repository.
    let fileName: String

    static let candidateNames = ["GNUmakefile", "makefile", "Makefile"]

    /// The Makefile of a repository, if it has one.
    static func load(repository: URL) -> MakefileTargets? {
        for name in candidateNames {
            let url = repository.appendingPathComponent(name)
            if let text = try? String(contentsOf: url, encoding: .utf8) {
                var m = MakefileTargets(fileName: name)
                m.read(text, directory: repository, depth: 0)
                return m
            }
        }
        return nil
    }

    init(fileName: String) {
        self.fileName = fileName
    }

    init(text: String, fileName: String = "Makefile") {
        self.fileName = fileName
        read(text, directory: nil, depth: 0)
    }

    func defines(_ target: String) -> Bool {
        if targets[target] != nil { return true }
        return patterns.contains { pattern in
            guard let percent = pattern.firstIndex(of: "%") else { return false }
            let prefix = pattern[..<percent], suffix = pattern[pattern.index(after: percent)...]
            return target.count > prefix.count + suffix.count && target.hasPrefix(prefix) && target.hasSuffix(suffix)
        }
    }

    private mutating func read(_ text: String, directory: URL?, depth: Int) {
        var logical: [(Int, String)] = []
        var pending = ""
        var pendingLine = 0
        for (index, raw) in text.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(raw)
            if pending.isEmpty { pendingLine = index + 1 }
            if line.hasSuffix("\\") {
                line.removeLast()
                pending += line + " "
                continue
            }
            logical.append((pendingLine, pending + line))
            pending = ""
        }
        if !pending.isEmpty { logical.append((pendingLine, pending)) }

        var inDefine = 0
        for (number, line) in logical {
            if line.hasPrefix("\t") { continue }  // recipe
            let code = Self.stripComment(line).trimmingSpaces
            if code.isEmpty { continue }
            if code.hasPrefix("define ") || code == "define" { inDefine += 1; continue }
            if code == "endef" { inDefine = max(0, inDefine - 1); continue }
            if inDefine > 0 { continue }
            for keyword in ["include ", "-include ", "sinclude "] where code.hasPrefix(keyword) {
                guard let directory, depth < 4 else { continue }
                for name in code.dropFirst(keyword.count).split(separator: " ") where !name.contains("$") {
                    let url = directory.appendingPathComponent(String(name))
                    if let included = try? String(contentsOf: url, encoding: .utf8) {
                        read(included, directory: url.deletingLastPathComponent(), depth: depth + 1)
                    }
                }
            }
            guard let colon = Self.ruleColon(code) else { continue }
            for target in code[..<colon].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
                if target.hasPrefix(".") || target.contains("$") { continue }  // special targets, computed names
                if target.contains("%") { patterns.append(target) } else if targets[target] == nil { targets[target] = number }
            }
        }
    }

    /// The colon that separates targets from prerequisites, or nil when the line is an
    /// assignment, a directive or something else.
    private static func ruleColon(_ code: String) -> String.Index? {
        for directive in ["ifeq", "ifneq", "ifdef", "ifndef", "else", "endif", "export ", "unexport", "override ", "vpath", "undefine"]
        where code.hasPrefix(directive) { return nil }
        var depth = 0
        var index = code.startIndex
        while index < code.endIndex {
            let c = code[index]
            if c == "(" || c == "{" { depth += 1 }
            if c == ")" || c == "}" { depth -= 1 }
            if depth == 0 {
                if c == "=" { return nil }  // `VAR = x`, `VAR ?= x`, `VAR += x`
                if c == ":" {
                    let next = code.index(after: index)
                    if next < code.endIndex, code[next] == "=" { return nil }  // `:=`
                    if next < code.endIndex, code[next] == ":" {
                        let after = code.index(after: next)
                        if after < code.endIndex, code[after] == "=" { return nil }  // `::=`
                    }
                    return index
                }
            }
            index = code.index(after: index)
        }
        return nil
    }

    private static func stripComment(_ line: String) -> String {
        var previous: Character = " "
        for (offset, c) in line.enumerated() {
            if c == "#", previous != "\\" { return String(line.prefix(offset)) }
            previous = c
        }
        return line
    }
}
