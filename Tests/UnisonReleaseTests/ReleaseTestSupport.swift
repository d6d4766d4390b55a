import Foundation
import Testing
import UnisonCore
import UnisonRelease
import UnisonSpec
import UnisonTestSupport

/// A real git repository made by the test: commits with given messages (empty commits with
/// fixed dates), lightweight or annotated tags, branches.
struct TestRepo {
    let url: URL
    let runner = SystemProcessRunner()
    private static let env = [
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "LC_ALL": "C",
    ]

    @discardableResult
    func git(_ args: String...) throws -> String {
        try git(args)
    }

    @discardableResult
    func git(_ args: [String], date: String = "2024-01-01T00:00:00Z") throws -> String {
        var env = Self.env
        env["GIT_AUTHOR_DATE"] = date
        env["GIT_COMMITTER_DATE"] = date
        return try runner.check(["git", "-C", url.path] + args, environment: env).stdoutString
    }

    static func create(at url: URL) throws -> TestRepo {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let repo = TestRepo(url: url)
        try repo.git("init", "-q", "-b", "main")
        return repo
    }

    private static let counter = Counter()

    /// Commits `message` (a file changes so merges have content) and returns the SHA.
    @discardableResult
    func commit(_ message: String) throws -> String {
        let n = Self.counter.next()
        try Data("\(n)\n".utf8).write(to: url.appendingPathComponent("file-\(n).txt"))
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", message], date: "2024-01-01T00:\(String(format: "%02d", n % 60)):00Z")
        return try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func tag(_ name: String, annotated: Bool = false) throws {
        if annotated { try git("tag", "-a", name, "-m", "release \(name)") } else { try git("tag", name) }
    }

    var repository: GitRepository { GitRepository(directory: url) }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

/// A small spec: three services, the platform repos, and the UnisonOS channels.
enum TestSpec {
    static let yaml = """
        schema: 1
        platform:
          name: unisonos
          displayName: UnisonOS
          org: project-unisonos
          defaultBranch: main
          version: 0.5.0
        repos:
          - {name: unison-platform, role: platform, description: Release bundle.}
          - {name: unison-docs, role: docs, description: Docs.}
        services:
          - {name: orchestrator, repo: unison-orchestrator, port: 8080, health: /health, description: Routes intents.}
          - {name: auth, repo: unison-auth, port: 8084, health: /health}
          - {name: storage, repo: unison-storage, port: 8091, health: /health}
        infrastructure:
          - {name: postgres, image: docker.io/library/postgres:15, port: 5432, healthCommand: pg_isready}
        channels:
          alpha:
            tagPattern: "v*.*.*-alpha.*"
            events: [push, workflow_dispatch]
            githubRelease: draft
            tags:
              - "type=raw,value={channel.version}"
              - "type=sha,prefix="
            flavor: ["latest=false"]
          nightly:
            branches: ["{default}"]
            events: [push, schedule, workflow_dispatch]
            tags:
              - "type=raw,value=edge-{{branch}}-{{date 'YYYYMMDD'}}"
              - "type=raw,value=edge-main"
              - "type=sha,prefix={{branch}}-"
              - "type=sha,prefix="
            flavor: ["latest=false"]
          beta:
            branches: ["release/*"]
            tagPattern: "v*.*.*-beta.*"
            events: [push, workflow_dispatch]
            versionFormat: "v{major}.{minor}.0-beta.{run}"
            githubRelease: prerelease
            tags:
              - "type=raw,value={channel.version}"
              - "type=raw,value={channel.version}-run{run.attempt},enable={ref.is_branch}"
              - "type=sha,prefix="
            flavor: ["latest=false"]
          stable:
            tagPattern: "v*.*.*"
            events: [push, workflow_dispatch]
            githubRelease: release
            tags:
              - "type=semver,pattern=v{{version}}"
              - "type=semver,pattern=v{{major}}.{{minor}}"
              - "type=semver,pattern=v{{major}}"
              - "type=sha,prefix="
            flavor: ["latest=auto"]
          feature:
            branches: ["feature/**", "hotfix/**"]
            events: [push, workflow_dispatch]
            tags:
              - "type=sha,prefix={{branch}}-"
              - "type=sha,prefix="
            flavor: ["latest=false"]
        release: {artifacts: dist}
        models:
          packs:
            - {name: light, description: No model., preload: [], minRam: 4GB, minDisk: 10GB}
            - {name: default, description: Small model., preload: ["qwen2.5:1.5b"], minRam: 8GB, minDisk: 20GB}
        bases:
          - {name: deb, kind: mmdebstrap, suite: bookworm}
        targets:
          wsl: {base: deb, models: light}
        installer: {}
        """

    static func load() throws -> PlatformSpec { try SpecLoader.load(text: yaml, file: "test-unison.yaml") }

    static func write(to dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("unison.yaml")
        try Data(yaml.utf8).write(to: url)
        return url
    }
}
