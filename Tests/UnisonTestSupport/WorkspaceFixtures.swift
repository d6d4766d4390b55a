import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonWorkspace

/// The workspace laid out like UnisonOS's that `CleanWorkspaceTests` and the `workspace check`
/// CLI test expect no error and no warning from.
package enum CleanWorkspace {
    /// Builds the clean workspace; returns the sandbox and the meta repository.
    package static func build(spec: PlatformSpec) throws -> (Sandbox, URL) {
        let sandbox = try Sandbox()
        let services = spec.services
        for repo in spec.repos where repo.role != .workspace && repo.checkout != .external {
            var files = try GoodRepo.files(repo, spec: spec)
            var tags: [String] = []
            switch repo.role {
            case .service:
                tags = ["v0.4.0", "v0.4.1", "v0.5.0-beta.1"]
            case .platform:
                tags = ["v0.3.0", "v0.4.0"]
                var compose = "# Release bundle \(spec.platform.version)\nname: unison\nservices:\n"
                for service in services {
                    compose += "  \(service.name):\n    image: \(service.image):v0.4.1\n    restart: unless-stopped\n"
                }
                compose += "  postgres:\n    image: docker.io/library/postgres:15\n"
                compose += "  ollama:\n    image: \"ollama/ollama@sha256:\(String(repeating: "ab", count: 32))\"\n"
                compose += "  updates-preview:\n    image: ghcr.io/project-unisonos/unison-updates:${UNISON_VERSION}\n"
                files["compose/compose.yaml"] = compose
            case .devstack:
                var compose = "services:\n"
                for (index, service) in services.enumerated() {
                    let tag = index % 3 == 0 ? "edge-main" : index % 3 == 1 ? "edge-main-20250101" : "sha-1a2b3c4"
                    compose += "  \(service.name):\n    image: ${REGISTRY:-ghcr.io}/project-unisonos/\(service.repo!):\(tag)\n"
                }
                compose += "  redis:\n    image: redis:7-alpine\n  nats:\n    image: nats:2.10\n"
                files["docker-compose.yml"] = compose
                files[".github/workflows/smoke.yml"] = """
                    name: smoke
                    on: [push]
                    jobs:
                      smoke:
                        runs-on: ubuntu-24.04
                        services:
                          postgres:
                            image: postgres:15
                        container:
                          image: ghcr.io/project-unisonos/unison-orchestrator:edge-main
                        steps:
                          - uses: docker://alpine:3.20
                          - run: |
                              docker pull ghcr.io/project-unisonos/unison-auth:v0.4.1
                              ./scripts/smoke.sh

                    """
            case .docs:
                var header = "| platform |", rule = "|---|", released = "| v0.4.0 |", previous = "| v0.3.0 |", next = "| v0.5.0 |"
                for (index, service) in services.enumerated() {
                    header += " \(service.name) |"
                    rule += "---|"
                    released += index % 2 == 0 ? " v0.4.1 |" : " `>=0.4.0 <0.5.0` |"
                    previous += index == 0 ? " v0.4.0 |" : " - |"
                    next += " >=0.5.0-beta.1 <0.6.0 |"
                }
                files["dev/compatibility-matrix.md"] = """
                    # Compatibility matrix

                    Which service versions each platform release ships.

                    \(header)
                    \(rule)
                    \(released)
                    \(previous)
                    \(next)

                    """
            default:
                break
            }
            try sandbox.repo(repo.name, files: files, tags: tags)
        }
        let metaRepo = try #require(spec.repos.first { $0.role == .workspace })
        var metaFiles = try GoodRepo.files(metaRepo, spec: spec)
        metaFiles[".github/workflows/ci.yml"] = """
            name: ci
            on: [push, pull_request]
            permissions: {}
            jobs:
              check:
                runs-on: ubuntu-24.04
                container: docker.io/library/debian:12
                steps:
                  - run: make check

            """
        let meta = try sandbox.meta(
            submodules: spec.repos.filter { $0.role != .workspace && $0.checkout != .external }.map(\.name),
            name: metaRepo.name, files: metaFiles)
        return (sandbox, meta)
    }
}

/// The small platform's workspace with image references of every kind (channel, mutable, foreign
/// registry, digest) and publish workflows, for `ImageRuleTests` and the `workspace check` CLI test.
package enum ImageRuleWorkspace {
    package static let devstackCompose = """
        services:
          auth:
            image: ghcr.io/project-unisonos/unison-auth:edge-main
          orchestrator:
            image: ghcr.io/project-unisonos/unison-orchestrator
          policy:
            image: docker.io/unisonos/unison-policy:v0.4.0
          payments:
            image: ghcr.io/project-unisonos/unison-payments:v0.4.0
          local:
            build: .
            image: ghcr.io/project-unisonos/unison-auth:latest
          db:
            image: postgres
          cache:
            image: "redis:latest"  # a comment
          tagged:
            image: ${REGISTRY:-ghcr.io}/project-unisonos/unison-policy:${POLICY_TAG:-latest}
          pinned:
            image: ghcr.io/project-unisonos/unison-policy:${POLICY_TAG}
          fake-digest:
            image: ghcr.io/project-unisonos/unison-auth:latest@sha256:jkl0123
          real-digest:
            image: ghcr.io/project-unisonos/unison-auth@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

        """

    package static let releaseCompose = """
        services:
          auth:
            image: ghcr.io/project-unisonos/unison-auth:main
          orchestrator:
            image: ghcr.io/project-unisonos/unison-orchestrator:v0.4.0
          policy:
            image: ghcr.io/project-unisonos/unison-policy:${UNISON_VERSION}
          postgres:
            image: postgres:latest
          auth-mirror:
            image: ghcr.io/project-unisonOS/unison-auth:v0.4.0
          edge:
            image: ghcr.io/project-unisonos/unison-auth:edge-main

        """

    package static let authDockerfile = """
        ARG BASE=python
        ARG TAG
        FROM ${BASE}:3.12-slim AS build
        FROM build AS test
        FROM ubuntu
        FROM ${BASE}:${TAG}
        FROM --platform=$BUILDPLATFORM ghcr.io/project-unisonos/unison-common:latest
        # FROM ignored:latest
        RUN echo \\
          FROM not-an-instruction

        """

    package static let orchestratorWorkflow = """
        name: publish
        on: push
        env:
          IMAGE: ghcr.io/${{ github.repository_owner }}/unison-orchestrator
        jobs:
          build:
            runs-on: ubuntu-24.04
            container:
              image: node
            steps:
              - uses: docker/metadata-action@v5
                id: meta
                with:
                  images: |
                    ${{ env.IMAGE }}
                    docker.io/unisonos/unison-orchestrator
              - name: push
                run: |
                  docker build -t $IMAGE:sha-${GITHUB_SHA} .
                  docker push ghcr.io/project-unisonos/orchestrator:edge-main
                  docker build -t unison-orchestrator:ci . && docker tag unison-orchestrator:ci \\
                    ghcr.io/project-unisonOS/unison-orchestrator:ci

        """

    package static let authWorkflow = """
        name: build
        on: pull_request
        jobs:
          build:
            runs-on: ubuntu-24.04
            steps:
              - uses: docker/build-push-action@v6
                with:
                  push: false
                  tags: ghcr.io/project-unisonos/unison-auth:pr

        """

    package static let policyWorkflow = """
        name: publish
        on: push
        jobs:
          publish:
            uses: project-unisonOS/unison-platform/.github/workflows/reusable-build.yml@main
            with:
              image_name: unison-policy

        """

    package static let reusableBuild = """
        name: reusable-build
        on:
          workflow_call:
            inputs:
              image_name: {required: true, type: string}
        jobs:
          build:
            runs-on: ubuntu-24.04
            steps:
              - uses: docker/build-push-action@v6
                with:
                  push: ${{ github.event_name != 'pull_request' }}
                  tags: ghcr.io/${{ github.repository_owner }}/${{ inputs.image_name }}:edge-main

        """

    package static func workspace(_ sandbox: Sandbox, spec: PlatformSpec) throws -> URL {
        for repo in spec.repos where repo.role != .workspace {
            var files = try GoodRepo.files(repo, spec: spec)
            var tags: [String] = []
            switch repo.name {
            case "unison-devstack": files["docker-compose.yml"] = devstackCompose
            case "unison-platform":
                files["compose/compose.yaml"] = releaseCompose
                files[".github/workflows/reusable-build.yml"] = reusableBuild
                tags = ["v0.4.0"]
            case "unison-auth":
                files["Dockerfile"] = authDockerfile
                files[".github/workflows/publish.yml"] = authWorkflow
            case "unison-orchestrator": files[".github/workflows/publish.yml"] = orchestratorWorkflow
            case "unison-policy": files[".github/workflows/publish.yml"] = policyWorkflow
            case "unison-docs":
                files["dev/compatibility-matrix.md"] = "| platform | auth | orchestrator | policy |\n|---|---|---|---|\n| v0.4.0 | | | |\n"
            default: break
            }
            try sandbox.repo(repo.name, files: files, tags: tags)
        }
        let metaRepo = spec.repos.first { $0.role == .workspace }!
        return try sandbox.meta(
            submodules: spec.repos.filter { $0.role != .workspace }.map(\.name),
            name: metaRepo.name, files: try GoodRepo.files(metaRepo, spec: spec))
    }
}

/// A planted workspace in the real repositories' shapes (unison-platform's compose publishing
/// auth's 8088 on host port 8083, a Dockerfile whose CMD passes --port, a reusable publish
/// workflow, a devstack compose with ports in an overlay), clean or drifted one fact at a time.
package enum DriftFixture {
    package static let spec = """
        schema: 1
        platform:
          name: unisonos
          org: project-unisonos
        repos:
          - {name: unison-workspace, role: workspace, checkout: root}
          - {name: unison-platform, role: platform, defaultBranch: master}
          - {name: unison-devstack, role: devstack, checkout: submodule}
          - {name: unison-docs, role: docs}
          - name: unison-auth
            role: service
            checkout: submodule
            entrypoints: {run: "python src/auth_service.py"}
          - name: unison-capabilities
            role: service
            images: [unison-capability]
        services:
          - name: auth
            repo: unison-auth
            port: 8088
            hostPort: 8083
            health: /health
            dependsOn: [redis]
            secrets: [unison_bootstrap_token]
          - name: comms
            repo: unison-comms
            port: 8080
            publish: false
            health: /health
            dependsOn: [auth]
        infrastructure:
          - name: redis
            image: docker.io/library/redis:7-alpine
            port: 6379
            healthCommand: redis-cli ping
            command: [redis-server, --appendonly, "yes"]
        channels:
          nightly: {tags: ["type=edge,branch=main"]}
          beta: {tags: ["type=semver,pattern={{version}}"]}
          stable: {tags: ["type=semver,pattern={{version}}"]}
        models:
          packs:
            - {name: light, minRam: 4GB, minDisk: 10GB}
        bases:
          - {name: deb, kind: mmdebstrap, suite: bookworm}
        targets:
          wsl: {base: deb, models: light}
        installer:
          fileSecrets:
            - {name: unison_bootstrap_token, file: bootstrap-token}

        """

    package static let platformCompose = """
        services:
          redis:
            image: redis:7-alpine
            ports:
              - "${REDIS_HOST_PORT:-6379}:6379"
            command: redis-server --appendonly yes
            healthcheck:
              test: ["CMD", "redis-cli", "ping"]
          auth:
            image: ghcr.io/project-unisonos/unison-auth:${UNISON_IMAGE_TAG:-latest}
            ports:
              - "${AUTH_HOST_PORT:-8083}:8088"
            secrets: [unison_bootstrap_token]
            depends_on:
              redis:
                condition: service_healthy
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost:8088/health"]
          comms:
            image: ghcr.io/project-unisonos/unison-comms:${UNISON_IMAGE_TAG:-latest}
            expose:
              - "8080"
            depends_on:
              auth:
                condition: service_healthy
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost:8080/health"]
        secrets:
          unison_bootstrap_token:
            file: ${UNISON_KEYS_DIR:-../data/keys}/bootstrap-token

        """

    package static let devstackCompose = """
        services:
          auth:
            image: ghcr.io/project-unisonos/unison-auth:latest
            healthcheck:
              test:
              - CMD
              - curl
              - -f
              - http://localhost:8088/health
          capability:
            image: ghcr.io/project-unisonos/unison-capability:latest

        """

    package static let devstackPorts = """
        name: unison-devstack
        services:
          auth:
            ports:
            - 8088:8088

        """

    package static let authDockerfile = """
        FROM python:3.12-slim AS wheels
        EXPOSE 9999
        FROM python:3.12-slim
        HEALTHCHECK --interval=30s \\
          CMD ["python", "-c", "print(1)", "--port", "1"]
        EXPOSE 8088
        CMD ["python", "-m", "uvicorn", "auth_service:app", "--app-dir", "src", "--host", "0.0.0.0", "--port", "8088"]

        """

    package static let authWorkflow = """
        name: Publish container
        on:
          push:
            branches: [ main ]
        permissions:
          packages: write
        jobs:
          publish:
            uses: project-unisonOS/unison-platform/.github/workflows/reusable-build.yml@main
            with:
              image_name: unison-auth
              service_port: "8088"

        """

    package static let capabilityWorkflow = """
        name: build
        on: [push]
        permissions:
          packages: write
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: docker/build-push-action@v6
                with:
                  push: true
                  tags: ghcr.io/project-unisonos/unison-capability:latest

        """

    /// A clean workspace; `change` edits files (path relative to the workspace → new text, nil removes).
    package static func make(_ change: [String: String?] = [:], branch: String = "master") throws -> (URL, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-drift-\(UUID().uuidString)")
        let ws = root.appendingPathComponent("ws")
        var files: [String: String] = [
            "README.md": "Unison Workspace Meta Repo\n==========================\n",
            ".gitmodules":
                "[submodule \"unison-auth\"]\n\tpath = unison-auth\n\turl = x\n[submodule \"unison-devstack\"]\n\tpath = unison-devstack\n\turl = y\n",
            "unison-platform/compose/compose.yaml": platformCompose,
            "unison-platform/README.md": "# Unison Platform\n",
            "unison-devstack/docker-compose.yml": devstackCompose,
            "unison-devstack/docker-compose.ports.yml": devstackPorts,
            "unison-auth/Dockerfile": authDockerfile,
            "unison-auth/README.md": "# unison-auth\n\n## Run locally\n\n```bash\npython src/auth_service.py\n```\n",
            "unison-auth/.github/workflows/publish.yml": authWorkflow,
            "unison-capabilities/README.md": "# unison-capability\n",
            "unison-capabilities/Dockerfile": "FROM python:3.12-slim\nEXPOSE 8102\nCMD [\"python\", \"src/server.py\"]\n",
            "unison-capabilities/.github/workflows/build.yaml": capabilityWorkflow,
        ]
        for (path, text) in change {
            if let text { files[path] = text } else { files.removeValue(forKey: path) }
        }
        for (path, text) in files {
            let url = ws.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        // unison-platform is a git repository whose HEAD names `branch`.
        let runner = HermeticRunner()
        let platform = ws.appendingPathComponent("unison-platform")
        _ = try runner.check(["git", "init", "-q", "-b", branch, platform.path])
        _ = try runner.check(["git", "-C", platform.path, "add", "-A"])
        _ = try runner.check(["git", "-C", platform.path, "commit", "-q", "-m", "init"])
        let specURL = root.appendingPathComponent("unison.yaml")
        try Data(spec.utf8).write(to: specURL)
        return (ws, specURL)
    }
}
