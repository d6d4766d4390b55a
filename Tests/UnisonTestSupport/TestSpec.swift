import Foundation

/// A small spec: three services, the platform repos, and the UnisonOS channels (the release
/// tests, and the release commands run end to end).
package enum TestSpec {
    package static let yaml = """
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

    package static func write(to dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("unison.yaml")
        try Data(yaml.utf8).write(to: url)
        return url
    }
}
