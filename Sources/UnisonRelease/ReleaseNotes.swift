import FoundationEssentials
import UnisonCore

/// Release notes from the commits of every participating repository, grouped by type.
package enum ReleaseNotes {
    /// Sections in order; commits of other types (chore, docs, ci, test, …) are left out.
    static let sections: [(title: String, types: Set<String>)] = [
        ("Features", ["feat", "feature"]),
        ("Bug fixes", ["fix"]),
        ("Performance", ["perf"]),
        ("Reverts", ["revert"]),
    ]

    package static func markdown(_ plan: ReleasePlan, displayName: String = "UnisonOS", date: String? = nil) -> String {
        var out = "# \(displayName) \(plan.version)\(date.map { " (\($0))" } ?? "")\n"
        let repos = plan.participating
        func line(_ repo: RepoPlan, _ c: CommitImpact, text: String) -> String {
            "- **\(repo.repo)**\(c.scope.map { " (\($0))" } ?? ""): \(text) (\(String(c.sha.prefix(7))))\n"
        }
        let breaking = repos.flatMap { r in r.commits.filter(\.breaking).map { (r, $0) } }
        if !breaking.isEmpty {
            out += "\n## Breaking changes\n\n"
            for (r, c) in breaking { out += line(r, c, text: c.breakingNote ?? c.description) }
        }
        for section in sections {
            let entries = repos.flatMap { r in r.commits.filter { section.types.contains($0.type ?? "") }.map { (r, $0) } }
            guard !entries.isEmpty else { continue }
            out += "\n## \(section.title)\n\n"
            for (r, c) in entries { out += line(r, c, text: c.description) }
        }
        if !plan.matrixRow.isEmpty {
            out += "\n## Service images\n\n| service | version |\n|---|---|\n"
            for (service, tag) in plan.matrixRow.sorted(by: { $0.key < $1.key }) { out += "| \(service) | \(tag) |\n" }
        }
        if repos.isEmpty { out += "\nNo repository has releasable changes.\n" }
        return out
    }
}
