import Foundation
import UnisonCore
import UnisonSpec
import UnisonWorkspace

/// Git with no user or system configuration, a fixed identity and fixed dates, and local
/// `file://` submodules allowed: every repository the tests build is the same on any machine.
package let hermeticGitEnvironment: [String: String] = [
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "protocol.file.allow", "GIT_CONFIG_VALUE_0": "always",
    "GIT_CONFIG_KEY_1": "init.defaultBranch", "GIT_CONFIG_VALUE_1": "main",
]

/// The real process runner with the hermetic git environment added.
package struct HermeticRunner: ProcessRunner {
    package let base = SystemProcessRunner()

    package init() {}

    package func run(_ arguments: [String], environment: [String: String]?, input: Data?, workingDirectory: URL?) throws -> ProcessResult {
        try base.run(
            arguments, environment: hermeticGitEnvironment.merging(environment ?? [:]) { $1 }, input: input,
            workingDirectory: workingDirectory)
    }
}

package enum Paths {
    /// The package root (the test sources may be reached through a symlink).
    package static let packageRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    package static let realSpec = packageRoot.appendingPathComponent("unison.yaml")
}

package enum Specs {
    /// The project's own unison.yaml: the layout of UnisonOS.
    package static func real() throws -> PlatformSpec { try SpecLoader.load(file: Paths.realSpec) }

    /// A small platform: the real spec with its repos, services and infrastructure replaced by
    /// four declared repos and three services (auth, orchestrator, policy) over postgres and ollama.
    package static let smallText: String = {
        let text = (try? String(contentsOf: Paths.realSpec, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = lines.firstIndex { $0.hasPrefix("repos:") } ?? 0
        let end = lines.firstIndex { $0.hasPrefix("channels:") } ?? lines.count
        let middle = """
            repos:
              - name: unison-workspace
                role: workspace
                description: Meta repository holding every other repo as a submodule.
                entrypoints: {run: "make bootstrap", test: "make check"}
              - name: unison-devstack
                role: devstack
                description: Docker Compose stack for local development of all services.
                entrypoints: {run: "make up", test: "./scripts/smoke.sh"}
              - name: unison-platform
                role: platform
                description: Release bundle and installers.
                entrypoints: {run: "make image-wsl image-vm", test: "make test"}
              - name: unison-docs
                role: docs
                description: Documentation and the compatibility matrix.
                entrypoints: {run: "make serve", test: "make linkcheck"}
            services:
              - name: auth
                repo: unison-auth
                port: 8084
                health: /health
                dependsOn: [postgres]
                description: Issues and checks tokens.
              - name: orchestrator
                repo: unison-orchestrator
                port: 8080
                health: /health
                dependsOn: [auth, policy, ollama]
              - name: policy
                repo: unison-policy
                port: 8086
                health: /health
                dependsOn: [postgres]
            infrastructure:
              - name: postgres
                image: docker.io/library/postgres:15
                port: 5432
                healthCommand: "pg_isready -U unison"
              - name: ollama
                image: docker.io/ollama/ollama:0.5.7
                port: 11434
                health: /api/version
            """
        return (lines[..<start] + [middle] + lines[end...]).joined(separator: "\n")
    }()

    package static func small() throws -> PlatformSpec { try SpecLoader.load(text: smallText, file: "small.yaml") }
}

/// A temporary directory where tests build real git repositories; removed on deinit.
package final class Sandbox {
    package let root: URL
    package let runner = HermeticRunner()

    package init() throws {
        root = try TempDir.create("ws")
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    @discardableResult
    package func git(_ directory: URL, _ arguments: String...) throws -> String {
        try runner.check(["git", "-C", directory.path] + arguments).stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    package func write(_ directory: URL, _ path: String, _ content: String, executable: Bool = false) throws {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: url.path)
    }

    /// A new repository under `src/` with `files` committed (paths ending in `.sh` executable).
    @discardableResult
    package func repo(_ name: String, files: [String: String], tags: [String] = []) throws -> URL {
        let dir = root.appendingPathComponent("src").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try git(dir, "init", "-q")
        for (path, content) in files.sorted(by: { $0.key < $1.key }) {
            try write(dir, path, content, executable: path.hasSuffix(".sh"))
        }
        try git(dir, "add", "-A")
        try git(dir, "commit", "-q", "--allow-empty", "-m", "initial \(name)")
        for tag in tags { try git(dir, "tag", tag) }
        return dir
    }

    package func commit(_ directory: URL, _ path: String, _ content: String, message: String = "change") throws {
        try write(directory, path, content, executable: path.hasSuffix(".sh"))
        try git(directory, "add", "-A")
        try git(directory, "commit", "-q", "-m", message)
    }

    /// The meta repository `workspace/`: `submodules` added from `src/` and committed.
    package func meta(submodules: [String], name: String = "workspace", files: [String: String] = [:]) throws -> URL {
        let dir = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try git(dir, "init", "-q")
        for (path, content) in files.sorted(by: { $0.key < $1.key }) { try write(dir, path, content, executable: path.hasSuffix(".sh")) }
        for sub in submodules {
            try git(dir, "submodule", "add", "-q", root.appendingPathComponent("src/\(sub)").path, sub)
        }
        try git(dir, "add", "-A")
        try git(dir, "commit", "-q", "-m", "workspace")
        return dir
    }
}

/// Content of well-kept repositories, following the spec: what the clean workspace is made of.
package enum GoodRepo {
    /// A README with every section of the policy, naming the role and the repo's commands.
    package static func readme(_ repo: Repo, spec: PlatformSpec) -> String {
        let run = repo.entrypoints["run"] ?? "see below"
        let test = repo.entrypoints["test"] ?? "see below"
        return """
            # \(repo.name)

            [![ci](https://github.com/\(spec.platform.org)/\(repo.name)/actions/workflows/ci.yml/badge.svg)](https://github.com/\(spec.platform.org)/\(repo.name)/actions)

            \(repo.description)

            ## Role and status

            This repository is the \(repo.role.rawValue) of \(spec.platform.displayName). Status: maintained.

            ## Quick start

            ```sh
            \(run)
            ```

            ## Tests

            ```sh
            \(test)
            ```

            ## Documentation

            - [Docs](https://github.com/\(spec.platform.org)/unison-docs)

            """
    }

    /// A Makefile defining every target the repo's `make` entry points name.
    package static func makefile(_ repo: Repo) -> String {
        var targets: [String] = []
        for command in repo.entrypoints.values.sorted() {
            for case let .make(names, _, _) in ReadmeAudit.invocations(command) { targets += names }
        }
        var out = ".PHONY: \(targets.joined(separator: " "))\n\n"
        for target in targets { out += "\(target):\n\t@echo \(target)\n\n" }
        return out
    }

    /// Files of a clean repo: README, Makefile, scripts its entry points run, and for a service
    /// repo a Dockerfile and the publish workflow `unisonctl ci workflow` generates.
    package static func files(_ repo: Repo, spec: PlatformSpec) throws -> [String: String] {
        var files = ["README.md": readme(repo, spec: spec), "Makefile": makefile(repo)]
        for command in repo.entrypoints.values {
            for invocation in ReadmeAudit.invocations(command) {
                switch invocation {
                case let .script(path, _):
                    files[path.hasPrefix("./") ? String(path.dropFirst(2)) : path] = "#!/bin/sh\necho ok\n"
                case let .compose(composeFiles):
                    for file in composeFiles { files[file.hasPrefix("./") ? String(file.dropFirst(2)) : file] = "services: {}\n" }
                default:
                    continue
                }
            }
        }
        if repo.role == .service, let service = repo.services.first {
            files["Dockerfile"] = "ARG PYTHON=3.12\nFROM python:${PYTHON}-slim AS build\nRUN pip wheel .\nFROM build\nCMD [\"serve\"]\n"
            files[".github/workflows/publish.yml"] = try CIWorkflow.servicePublish(spec: spec, service: service)
        }
        if repo.role == .platform {
            // The reusable build the service repos' publish workflows call.
            files[".github/workflows/\(CIWorkflow.reusableFile)"] = try CIWorkflow.reusableBuild(spec: spec, platformVersion: "v0.5.0")
        }
        return files
    }
}

/// Runs the built `unisonctl` (beside the test bundle, or `UNISONCTL_BIN`).
package enum WorkspaceCLI {
    package static var binary: URL { Unisonctl.binary }

    package struct Result {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    package static func run(_ arguments: [String], cwd: URL) throws -> Result {
        var env = hermeticGitEnvironment
        env["NO_COLOR"] = "1"
        env["UNISONCTL_QUIET"] = "1"
        let result = try SystemProcessRunner().run([binary.path] + arguments, environment: env, input: nil, workingDirectory: cwd)
        return Result(status: result.status, stdout: result.stdoutString, stderr: result.stderrString)
    }
}

/// The small platform's repos, each kept clean, as sources under `src/`; services tagged
/// v0.4.0, the platform tagged v0.4.0, the matrix with one matching row.
package enum SmallWorkspace {
    package static func sources(_ sandbox: Sandbox, spec: PlatformSpec, skip: Set<String> = []) throws {
        for repo in spec.repos where repo.role != .workspace && !skip.contains(repo.name) {
            var files = try GoodRepo.files(repo, spec: spec)
            var tags: [String] = []
            if repo.role == .service || repo.role == .platform { tags = ["v0.4.0"] }
            if repo.role == .docs {
                files["dev/compatibility-matrix.md"] =
                    "| platform | auth | orchestrator | policy |\n|---|---|---|---|\n| v0.4.0 | v0.4.0 | v0.4.0 | v0.4.0 |\n"
            }
            try sandbox.repo(repo.name, files: files, tags: tags)
        }
    }

    /// Sources plus the meta repository `unison-workspace` holding `submodules` (default: all).
    package static func meta(_ sandbox: Sandbox, spec: PlatformSpec, submodules: [String]? = nil) throws -> URL {
        try sources(sandbox, spec: spec)
        let metaRepo = spec.repos.first { $0.role == .workspace }!
        return try sandbox.meta(
            submodules: submodules ?? spec.repos.filter { $0.role != .workspace }.map(\.name),
            name: metaRepo.name, files: try GoodRepo.files(metaRepo, spec: spec))
    }
}
