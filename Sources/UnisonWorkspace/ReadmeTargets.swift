import FoundationEssentials
import UnisonCore
import UnisonSpec

/// The README commands' view of their arguments: which README, of which repo.
package enum ReadmeTargets {
    package struct Target: Sendable {
        package var readme: URL
        /// The path printed back: as given, or `<dir>/README.md` for a directory.
        package var display: String
        package var repoDirectory: URL
        package var repo: Repo
    }

    /// A PATH of `readme check|fix`: a target, or a directory no repo of the spec can be placed
    /// at (reported, the other paths still checked).
    package enum Placement: Sendable {
        case target(Target)
        case unplaced(path: String, display: String, name: String)
    }

    /// Resolves `readme check|fix PATH…`: a PATH is a README file or a repo directory (its
    /// README, or `README.md` to be created by `fix`). The repo is `repoName` when given (an
    /// unknown name is bad input), else the name of the README's directory, else the name its
    /// `origin` remote's URL ends in. A PATH that does not exist is bad input.
    package static func place(
        _ paths: [String], repoName: String?, spec: PlatformSpec,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> [Placement] {
        if let repoName, spec.repo(named: repoName) == nil {
            throw WorkspaceError.unknownRepo(name: repoName, path: paths.first ?? ".", known: spec.repos.map(\.name))
        }
        let fm = FileManager.default
        return try paths.map { path in
            let url = URL(fileURLWithPath: path, relativeTo: currentDirectory).standardizedFileURL
            var isDirectory = false
            let readme: URL, display: String, directory: URL
            guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw WorkspaceError.pathNotFound(path: path) }
            if isDirectory {
                directory = url
                readme = ReadmeAudit.findReadme(in: url) ?? url.appendingPathComponent("README.md")
                display = WorkspaceCheck.Located.join(path.trimmingTrailingSlash, readme.lastPathComponent)
            } else {
                directory = url.deletingLastPathComponent()
                readme = url
                display = path
            }
            let name = repoName ?? directory.resolvingSymlinksInPath().lastPathComponent
            guard let repo = spec.repo(named: name) ?? (repoName == nil ? originRepo(directory).flatMap(spec.repo(named:)) : nil) else {
                return .unplaced(path: path, display: display, name: name)
            }
            return .target(Target(readme: readme, display: display, repoDirectory: directory, repo: repo))
        }
    }

    /// Like `place`, with a directory that cannot be placed as bad input.
    package static func resolve(
        _ paths: [String], repoName: String?, spec: PlatformSpec,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> [Target] {
        try place(paths, repoName: repoName, spec: spec, currentDirectory: currentDirectory).map {
            switch $0 {
            case let .target(t): return t
            case let .unplaced(path, _, name): throw WorkspaceError.unknownRepo(name: name, path: path, known: spec.repos.map(\.name))
            }
        }
    }

    /// The repository name the `origin` URL of `.git/config` in `directory` ends in.
    static func originRepo(_ directory: URL) -> String? {
        guard let config = try? String(contentsOf: directory.appendingPathComponent(".git/config"), encoding: .utf8) else { return nil }
        var inOrigin = false
        for raw in config.split(separator: "\n") {
            let line = INILine(raw)
            if case let .section(name) = line { inOrigin = name.replacing(" ", with: "") == "remote\"origin\""; continue }
            guard inOrigin, case .entry(key: "url", var url) = line else { continue }
            while url.hasSuffix("/") { url.removeLast() }
            if url.hasSuffix(".git") { url.removeLast(4) }
            let cut = url.lastIndex { $0 == "/" || $0 == ":" }
            let name = cut.map { String(url[url.index(after: $0)...]) } ?? url
            return name.isEmpty ? nil : name
        }
        return nil
    }

    static func unplacedFinding(path: String, display: String, name: String, spec: PlatformSpec) -> Finding {
        Finding(
            .readmeUnknownRepo, .error, repo: name, file: display,
            "cannot tell which repository \(path) belongs to: neither its directory name '\(name)' nor its origin remote names a repo of the spec",
            hint: "check it alone with --repo NAME, or add the repo to repos: in unison.yaml")
    }

    /// `readme check`: the README findings of every target, in one report; a directory that
    /// cannot be placed is a `readme.unknown-repo` finding and the others are still checked.
    package static func check(_ paths: [String], repoName: String?, spec: PlatformSpec) throws -> FindingsReport {
        var findings: [Finding] = []
        for placement in try place(paths, repoName: repoName, spec: spec) {
            guard case let .target(target) = placement else {
                if case let .unplaced(path, display, name) = placement {
                    findings.append(unplacedFinding(path: path, display: display, name: name, spec: spec))
                }
                continue
            }
            let exists = FileManager.default.fileExists(atPath: target.readme.path)
            if !exists {
                findings.append(
                    Finding(
                        .readmeMissing, .error, repo: target.repo.name, file: target.display,
                        "\(target.display) does not exist",
                        hint: "unisonctl readme fix \(target.display) writes it with the sections of the spec"))
                continue
            }
            let prefix = String(target.display.dropLast(target.readme.lastPathComponent.count)).trimmingTrailingSlash
            findings += ReadmeAudit.audit(
                spec: spec, repo: target.repo, directory: target.repoDirectory,
                readme: target.readme, displayPrefix: prefix)
        }
        return FindingsReport(schema: FindingsReport.readmeSchema, findings: findings)
    }

    /// `readme fix`: appends the missing sections of every target; a directory that cannot be
    /// placed is left alone and listed with the reason.
    package static func fix(_ paths: [String], repoName: String?, spec: PlatformSpec) throws -> [ReadmeFixer.Result] {
        try place(paths, repoName: repoName, spec: spec).map { placement in
            switch placement {
            case let .target(t):
                return try ReadmeFixer.fix(readme: t.readme, display: t.display, repo: t.repo, spec: spec, directory: t.repoDirectory)
            case let .unplaced(_, display, name):
                return ReadmeFixer.Result(
                    path: display, repo: name, created: false, added: [],
                    skipped: "'\(name)' is not a repo of the spec; pass --repo NAME")
            }
        }
    }
}

extension String {
    var trimmingTrailingSlash: String {
        var s = self
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
