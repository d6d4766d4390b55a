import Foundation
import UnisonSpec

/// The README commands' view of their arguments: which README, of which repo.
public enum ReadmeTargets {
    public struct Target: Sendable {
        public var readme: URL
        /// The path printed back: as given, or `<dir>/README.md` for a directory.
        public var display: String
        public var repoDirectory: URL
        public var repo: Repo
    }

    /// Resolves `readme check|fix PATH…`: a PATH is a README file or a repo directory (its
    /// README, or `README.md` to be created by `fix`). The repo is `repoName` when given, else
    /// the name of the README's directory.
    public static func resolve(_ paths: [String], repoName: String?, spec: PlatformSpec,
                               currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws -> [Target] {
        let fm = FileManager.default
        return try paths.map { path in
            let url = URL(fileURLWithPath: path, relativeTo: currentDirectory).standardizedFileURL
            var isDirectory: ObjCBool = false
            let readme: URL, display: String, directory: URL
            if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    directory = url
                    readme = ReadmeAudit.findReadme(in: url) ?? url.appendingPathComponent("README.md")
                    display = WorkspaceCheck.Located.join(path.hasSuffix("/") ? String(path.dropLast()) : path, readme.lastPathComponent)
                } else {
                    directory = url.deletingLastPathComponent()
                    readme = url
                    display = path
                }
            } else {
                throw WorkspaceError.pathNotFound(path: path)
            }
            let name = repoName ?? directory.resolvingSymlinksInPath().lastPathComponent
            guard let repo = spec.repo(named: name) else {
                throw WorkspaceError.unknownRepo(name: name, path: path, known: spec.repos.map(\.name))
            }
            return Target(readme: readme, display: display, repoDirectory: directory, repo: repo)
        }
    }

    /// `readme check`: the README findings of every target, in one report.
    public static func check(_ paths: [String], repoName: String?, spec: PlatformSpec) throws -> FindingsReport {
        var findings: [Finding] = []
        for target in try resolve(paths, repoName: repoName, spec: spec) {
            let exists = FileManager.default.fileExists(atPath: target.readme.path)
            if !exists {
                findings.append(Finding(.readmeMissing, .error, repo: target.repo.name, file: target.display,
                                        "\(target.display) does not exist",
                                        hint: "unisonctl readme fix \(target.display) writes it with the sections of the spec"))
                continue
            }
            let prefix = String(target.display.dropLast(target.readme.lastPathComponent.count)).trimmingTrailingSlash
            findings += ReadmeAudit.audit(spec: spec, repo: target.repo, directory: target.repoDirectory,
                                          readme: target.readme, displayPrefix: prefix)
        }
        return FindingsReport(schema: FindingsReport.readmeSchema, findings: findings)
    }

    /// `readme fix`: appends the missing sections of every target.
    public static func fix(_ paths: [String], repoName: String?, spec: PlatformSpec) throws -> [ReadmeFixer.Result] {
        try resolve(paths, repoName: repoName, spec: spec).map {
            try ReadmeFixer.fix(readme: $0.readme, display: $0.display, repo: $0.repo, spec: spec)
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
