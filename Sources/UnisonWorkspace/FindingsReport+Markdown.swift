import UnisonCore

/// The gap report to publish (`workspace check --markdown`): a summary table by rule, then
/// the findings of each repository with their locations and hints.
extension FindingsReport {
    package func markdown(title: String = "Workspace gap report") -> String {
        var out = "# \(title)\n\n"
        let repos = orderedRepos()
        if findings.isEmpty {
            out += "No gaps found: every check passed.\n"
            return out
        }
        out += "**\(summaryLine)** in \(repos.count) repositor\(repos.count == 1 ? "y" : "ies").\n\n"

        out += "## Summary by rule\n\n| rule | severity | findings |\n|---|---|---:|\n"
        var counts: [String: (Rule, Severity, Int)] = [:]
        for f in findings {
            let key = "\(f.rule.rawValue)|\(f.severity.rawValue)"
            counts[key, default: (f.rule, f.severity, 0)].2 += 1
        }
        let rows = counts.values.sorted { a, b in
            a.1 != b.1 ? a.1 < b.1 : a.0.rawValue < b.0.rawValue
        }
        for (rule, severity, n) in rows {
            out += "| `\(rule.rawValue)` | \(severity.rawValue) | \(n) |\n"
        }

        out += "\n## Summary by repository\n\n| repository | errors | warnings | info |\n|---|---:|---:|---:|\n"
        for repo in repos {
            let mine = findings.filter { $0.repo == repo }
            out +=
                "| [\(repo)](#\(Self.anchor(repo))) | \(mine.filter { $0.severity == .error }.count)"
                + " | \(mine.filter { $0.severity == .warning }.count) | \(mine.filter { $0.severity == .info }.count) |\n"
        }

        for repo in repos {
            out += "\n## \(repo)\n\n| severity | rule | location | finding | hint |\n|---|---|---|---|---|\n"
            let mine = findings.filter { $0.repo == repo }
                .sorted { $0.severity != $1.severity ? $0.severity < $1.severity : Finding.precedes($0, $1) }
            for f in mine {
                let location = f.file == nil ? "" : "`\(f.location)`"
                out += "| \(f.severity.rawValue) | `\(f.rule.rawValue)` | \(location) | \(Self.cell(f.message)) | \(Self.cell(f.hint)) |\n"
            }
        }
        return out
    }

    private func orderedRepos() -> [String] {
        var seen: Set<String> = []
        return findings.map(\.repo).filter { seen.insert($0).inserted }
    }

    /// GitHub's heading anchor for a repo name (lowercase; dots dropped).
    static func anchor(_ text: String) -> String {
        String(text.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    /// Table cell text: pipes escaped, newlines flattened.
    static func cell(_ text: String) -> String {
        MarkdownTable.escape(text)
    }
}
