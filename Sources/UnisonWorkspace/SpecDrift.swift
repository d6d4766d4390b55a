import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Where a fact was found: a file (relative to the workspace, or the spec file as given) and,
/// when known, its line and column.
package struct DriftLocation: Codable, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int?
    package var column: Int?

    package init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    package var description: String {
        var out = file
        if let line {
            out += ":\(line)"
            if let column { out += ":\(column)" }
        }
        return out
    }
}

/// One disagreement between the spec and a checked-out repository, or between two
/// repositories, with both places.
package struct Drift: Codable, Sendable, Equatable {
    package enum Kind: String, Codable, Sendable, CaseIterable {
        /// A Dockerfile's `EXPOSE` or its `CMD`/`ENTRYPOINT` `--port` differs from the service's port.
        case dockerfilePort = "dockerfile.port"
        /// The spec names a Dockerfile the repo does not have.
        case dockerfileMissing = "dockerfile.missing"
        /// A platform service of the spec is not in the platform's compose file.
        case composeMissingService = "compose.missing-service"
        /// A service of the platform's compose file is not in the spec.
        case composeUnknownService = "compose.unknown-service"
        case composePort = "compose.port"
        case composeHostPort = "compose.host-port"
        case composeHealth = "compose.health"
        case composeImage = "compose.image"
        case composeDependencies = "compose.depends-on"
        case composeProfiles = "compose.profiles"
        case composeSecrets = "compose.secrets"
        /// A publishing workflow publishes an image name the spec does not give the repo.
        case workflowImage = "workflow.image"
        case defaultBranch = "git.default-branch"
        /// The README's title names neither the repo nor one of its images.
        case readmeTitle = "readme.title"
        /// An entry point of the spec that the README does not show.
        case readmeEntrypoint = "readme.entrypoint"
        /// A repository on disk that the spec does not list.
        case repoUnknown = "repo.unknown"
        /// A repo the spec calls a submodule that is not one, or the reverse.
        case repoCheckout = "repo.checkout"
        /// Two repositories disagree on a fact the spec states once (devstack's compose against
        /// unison-platform's, which the spec follows).
        case reposDisagree = "repos.disagree"
    }

    package var kind: Kind
    package var repo: String
    package var message: String
    /// Where the spec states the fact (nil when the spec says nothing, e.g. an unknown repo).
    package var spec: DriftLocation?
    /// Where the repository states it.
    package var found: DriftLocation
    /// For `repos.disagree`: where the other repository states it.
    package var other: DriftLocation?

    package init(
        _ kind: Kind, repo: String, _ message: String, spec: DriftLocation?, found: DriftLocation,
        other: DriftLocation? = nil
    ) {
        self.kind = kind
        self.repo = repo
        self.message = message
        self.spec = spec
        self.found = found
        self.other = other
    }
}

/// What `unisonctl spec drift` prints with `--json`.
package struct DriftReport: Codable, Sendable, Equatable {
    package var schema = "unisonctl.spec-drift/v1"
    package var workspace: String
    package var spec: String
    /// Repos of the spec found on disk and compared.
    package var checked: [String]
    /// Repos of the spec with no checkout in the workspace (not compared; not drift).
    package var notCheckedOut: [String]
    package var drift: [Drift]

    package var isClean: Bool { drift.isEmpty }
}

/// Compares the spec with a checked-out workspace: Dockerfiles, compose files, publishing
/// workflows, default branches, README titles and entry points, and repos on disk the spec
/// lacks. Reads files and asks git for branches; never writes.
package struct SpecDrift {
    package let spec: PlatformSpec
    package let sourceMap: SpecSourceMap
    package let workspace: URL
    let runner: any ProcessRunner

    package init(spec: PlatformSpec, sourceMap: SpecSourceMap, workspace: URL, runner: any ProcessRunner = SystemProcessRunner()) {
        self.spec = spec
        self.sourceMap = sourceMap
        self.workspace = workspace.standardizedFileURL
        self.runner = runner
    }

    /// A repo's checkout: the workspace itself for the workspace repo, else `<workspace>/<name>`,
    /// else a sibling of the workspace directory.
    func directory(of repo: Repo) -> URL? {
        let fm = FileManager.default
        if repo.checkout == .external { return nil }
        if repo.role == .workspace || repo.checkout == .root {
            return fm.fileExists(atPath: workspace.path) ? workspace : nil
        }
        for candidate in [
            workspace.appendingPathComponent(repo.name),
            workspace.deletingLastPathComponent().appendingPathComponent(repo.name),
        ] {
            var isDir = false
            if fm.fileExists(atPath: candidate.path, isDirectory: &isDir), isDir,
                (try? fm.contentsOfDirectory(atPath: candidate.path))?.isEmpty == false
            {
                return candidate
            }
        }
        return nil
    }

    /// A path as findings print it: relative to the workspace when below it.
    func display(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let base = workspace.path.hasSuffix("/") ? workspace.path : workspace.path + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    func specLocation(_ key: String) -> DriftLocation {
        if let p = sourceMap.position(key) { return DriftLocation(file: sourceMap.file, line: p.line, column: p.column) }
        return DriftLocation(file: sourceMap.file)
    }

    package func run() -> DriftReport {
        var drift: [Drift] = []
        var checked: [String] = []
        var missing: [String] = []
        var dirs: [String: URL] = [:]
        for repo in spec.repos {
            guard let dir = directory(of: repo) else {
                if repo.checkout != .external { missing.append(repo.name) }
                continue
            }
            checked.append(repo.name)
            dirs[repo.name] = dir
            drift += checkDockerfile(repo, dir)
            drift += checkWorkflows(repo, dir)
            drift += checkBranch(repo, dir)
            drift += checkReadme(repo, dir)
        }
        if let platform = spec.repos.first(where: { $0.role == .platform }), let dir = dirs[platform.name] {
            let platformCompose = ComposeFile.load(dir.appendingPathComponent("compose/compose.yaml"), display: display)
            if let platformCompose {
                drift += checkPlatformCompose(platformCompose, repo: platform.name)
            }
            if let devstack = spec.repos.first(where: { $0.role == .devstack }), let devDir = dirs[devstack.name] {
                let files = ["docker-compose.yml", "docker-compose.ports.yml"].map { devDir.appendingPathComponent($0) }
                if let dev = ComposeFile.merged(files.compactMap { ComposeFile.load($0, display: display) }) {
                    drift += checkDevstackCompose(dev, repo: devstack.name, platform: platformCompose)
                }
            }
        }
        drift += checkUnknownRepos(dirs)
        return DriftReport(workspace: workspace.path, spec: sourceMap.file, checked: checked, notCheckedOut: missing, drift: drift)
    }
}
