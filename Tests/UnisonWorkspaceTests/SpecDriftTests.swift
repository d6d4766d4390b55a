import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// A planted workspace in the real repositories' shapes (unison-platform's compose publishing
/// auth's 8088 on host port 8083, a Dockerfile whose CMD passes --port, a reusable publish
/// workflow, a devstack compose with ports in an overlay), clean or drifted one fact at a time.
enum DriftFixture {
    static let spec = """
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

    static let platformCompose = """
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

    static let devstackCompose = """
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

    static let devstackPorts = """
        name: unison-devstack
        services:
          auth:
            ports:
            - 8088:8088

        """

    static let authDockerfile = """
        FROM python:3.12-slim AS wheels
        EXPOSE 9999
        FROM python:3.12-slim
        HEALTHCHECK --interval=30s \\
          CMD ["python", "-c", "print(1)", "--port", "1"]
        EXPOSE 8088
        CMD ["python", "-m", "uvicorn", "auth_service:app", "--app-dir", "src", "--host", "0.0.0.0", "--port", "8088"]

        """

    static let authWorkflow = """
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

    static let capabilityWorkflow = """
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
    static func make(_ change: [String: String?] = [:], branch: String = "master") throws -> (URL, URL) {
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

    static func run(_ ws: URL, _ specURL: URL) throws -> DriftReport {
        let (spec, map) = try SpecLoader.loadWithSourceMap(file: specURL)
        return SpecDrift(spec: spec, sourceMap: map, workspace: ws, runner: HermeticRunner()).run()
    }
}

@Suite(.tags(.interop)) struct SpecDriftTests {
    @Test func cleanWorkspaceHasNoDrift() throws {
        let (ws, specURL) = try DriftFixture.make()
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let report = try DriftFixture.run(ws, specURL)
        #expect(report.drift.isEmpty, "\(report.drift.map(\.message))")
        #expect(report.checked.sorted() == ["unison-auth", "unison-capabilities", "unison-devstack", "unison-platform", "unison-workspace"])
        #expect(report.notCheckedOut.sorted() == ["unison-comms", "unison-docs"])
    }

    /// Each kind of drift, planted alone, is found once, pointing at the repository's line and
    /// at the spec's.
    @Test(
        arguments: [
            // Dockerfile: EXPOSE, then CMD --port (the real unison-auth shape, port 8088 → 8090).
            (
                "unison-auth/Dockerfile", DriftFixture.authDockerfile.replacingOccurrences(of: "EXPOSE 8088", with: "EXPOSE 8090"),
                Drift.Kind.dockerfilePort, 6, "unison.yaml:20:11"
            ),
            (
                "unison-auth/Dockerfile", DriftFixture.authDockerfile.replacingOccurrences(of: "\"--port\", \"8088\"", with: "\"--port\", \"8090\""),
                .dockerfilePort, 7, "unison.yaml:20:11"
            ),
            (
                "unison-platform/compose/compose.yaml", DriftFixture.platformCompose.replacingOccurrences(of: "8083}:8088", with: "8083}:8080"),
                .composePort, 12, "unison.yaml:20:11"
            ),
            (
                "unison-platform/compose/compose.yaml",
                DriftFixture.platformCompose.replacingOccurrences(of: "AUTH_HOST_PORT:-8083", with: "AUTH_HOST_PORT:-8084"),
                .composeHostPort, 12, "unison.yaml:21:15"
            ),
            (
                "unison-platform/compose/compose.yaml", DriftFixture.platformCompose.replacingOccurrences(of: "8088/health", with: "8088/readyz"),
                .composeHealth, 18, "unison.yaml:22:13"
            ),
            (
                "unison-platform/compose/compose.yaml", DriftFixture.platformCompose.replacingOccurrences(of: "unison-auth:", with: "unison-authn:"),
                .composeImage, 10, "unison.yaml:18:11"
            ),
            (
                "unison-platform/compose/compose.yaml",
                DriftFixture.platformCompose.replacingOccurrences(of: "redis-server --appendonly yes", with: "x")
                    .replacingOccurrences(of: "[\"CMD\", \"redis-cli\", \"ping\"]", with: "[\"CMD-SHELL\", \"redis-cli -a x ping\"]"),
                .composeHealth, 8, "unison.yaml:35:20"
            ),
            (
                "unison-platform/compose/compose.yaml",
                DriftFixture.platformCompose.replacingOccurrences(
                    of: "\nsecrets:\n", with: "\n  nats:\n    image: nats:2.10-alpine\nsecrets:\n"),
                .composeUnknownService, 28, "unison.yaml"
            ),
            (
                "unison-platform/compose/compose.yaml",
                DriftFixture.platformCompose.replacingOccurrences(
                    of: "secrets: [unison_bootstrap_token]", with: "secrets: [unison_bootstrap_token]\n    profiles: [auth]"),
                .composeProfiles, 14, "unison.yaml:18:11"
            ),
            (
                "unison-auth/.github/workflows/publish.yml",
                DriftFixture.authWorkflow.replacingOccurrences(of: "image_name: unison-auth", with: "image_name: unison-authentication"),
                .workflowImage, 11, "unison.yaml:10:11"
            ),
            (
                "unison-capabilities/.github/workflows/build.yaml",
                DriftFixture.capabilityWorkflow.replacingOccurrences(of: "unison-capability:", with: "unison-capabilities:"),
                .workflowImage, 12, "unison.yaml:16:13"
            ),
            ("unison-auth/README.md", "# Authentication\n\npython src/auth_service.py\n", .readmeTitle, 1, "unison.yaml:10:11"),
            ("unison-auth/README.md", "# unison-auth\n\nRun it with uvicorn.\n", .readmeEntrypoint, nil, "unison.yaml:13:18"),
            ("unison-extra/.git/HEAD", "ref: refs/heads/main\n", .repoUnknown, nil, "unison.yaml"),
            (".gitmodules", "[submodule \"unison-devstack\"]\n\tpath = unison-devstack\n\turl = y\n", .repoCheckout, nil, "unison.yaml:12:15"),
        ] as [(String, String, Drift.Kind, Int?, String)])
    func eachKindIsFound(path: String, text: String, kind: Drift.Kind, line: Int?, specAt: String) throws {
        let (ws, specURL) = try DriftFixture.make([path: text])
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let report = try DriftFixture.run(ws, specURL)
        #expect(report.drift.count == 1, "\(report.drift.map { "\($0.kind.rawValue): \($0.message)" })")
        let d = try #require(report.drift.first)
        #expect(d.kind == kind, "\(d.message)")
        #expect(d.found.line == line, "\(d.found)")
        #expect(d.spec?.description.hasSuffix(specAt) == true, "\(String(describing: d.spec))")
    }

    @Test func defaultBranchIsComparedWithTheRepository() throws {
        let (ws, specURL) = try DriftFixture.make(branch: "main")
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let report = try DriftFixture.run(ws, specURL)
        #expect(report.drift.map(\.kind) == [.defaultBranch])
        #expect(report.drift.first?.message.contains("'main'; the spec says 'master'") == true)
    }

    @Test func aServiceMissingFromThePlatformComposeIsDrift() throws {
        var compose = DriftFixture.platformCompose
        compose = String(compose[..<compose.range(of: "  comms:")!.lowerBound]) + "secrets: {}\n"
        let (ws, specURL) = try DriftFixture.make(["unison-platform/compose/compose.yaml": compose])
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let report = try DriftFixture.run(ws, specURL)
        #expect(report.drift.map(\.kind) == [.composeMissingService])
        #expect(report.drift.first?.message.contains("'comms'") == true)
    }

    /// devstack probing /readyz where unison-platform's compose and the spec probe /health: the
    /// repositories disagree with each other, and both places are named.
    @Test func devstackAgainstPlatformIsADisagreementBetweenRepos() throws {
        let dev = DriftFixture.devstackCompose.replacingOccurrences(of: "8088/health", with: "8088/readyz")
        let (ws, specURL) = try DriftFixture.make(["unison-devstack/docker-compose.yml": dev])
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let report = try DriftFixture.run(ws, specURL)
        #expect(report.drift.count == 1)
        let d = try #require(report.drift.first)
        #expect(d.kind == .reposDisagree)
        #expect(d.found == DriftLocation(file: "unison-devstack/docker-compose.yml", line: 6))
        #expect(d.other == DriftLocation(file: "unison-platform/compose/compose.yaml", line: 9))
        #expect(d.message.contains(":8088/readyz") && d.message.contains(":8088/health"))
        // Devstack's dev host ports (and its overlay) are not the platform's and are not compared.
        let overlay = DriftFixture.devstackPorts.replacingOccurrences(of: "8088:8088", with: "18088:8088")
        let (ws2, spec2) = try DriftFixture.make(["unison-devstack/docker-compose.ports.yml": overlay])
        defer { try? FileManager.default.removeItem(at: ws2.deletingLastPathComponent()) }
        #expect(try DriftFixture.run(ws2, spec2).drift.isEmpty)
        // A container port changed in the overlay is found.
        let moved = DriftFixture.devstackPorts.replacingOccurrences(of: "8088:8088", with: "8088:8089")
        let (ws3, spec3) = try DriftFixture.make(["unison-devstack/docker-compose.ports.yml": moved])
        defer { try? FileManager.default.removeItem(at: ws3.deletingLastPathComponent()) }
        let r3 = try DriftFixture.run(ws3, spec3)
        #expect(r3.drift.map(\.kind) == [.reposDisagree] && r3.drift.first?.found.file == "unison-devstack/docker-compose.ports.yml")
    }

    @Test func cliExitsOneWithJSONOnDriftAndZeroWhenClean() throws {
        let (ws, specURL) = try DriftFixture.make()
        defer { try? FileManager.default.removeItem(at: ws.deletingLastPathComponent()) }
        let clean = try CLI.run(["spec", "drift", ws.path, "--spec", specURL.path], cwd: ws)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("spec drift: 0 disagreement(s) with the spec, 0 between repositories"))

        let (bad, badSpec) = try DriftFixture.make(["unison-auth/Dockerfile": "FROM scratch\nEXPOSE 9000\n"])
        defer { try? FileManager.default.removeItem(at: bad.deletingLastPathComponent()) }
        let text = try CLI.run(["spec", "drift", bad.path, "--spec", badSpec.path], cwd: bad)
        #expect(text.status == 1)
        #expect(text.stdout.contains("unison-auth/Dockerfile:2: dockerfile.port: "), "\(text.stdout)")
        #expect(text.stdout.contains("  spec: ") && text.stdout.contains("unison.yaml:20:11"))
        let json = try CLI.run(["spec", "drift", bad.path, "--spec", badSpec.path, "--json"], cwd: bad)
        #expect(json.status == 1)
        let report = try JSONDecoder().decode(DriftReport.self, from: Data(json.stdout.utf8))
        #expect(report.schema == "unisonctl.spec-drift/v1")
        #expect(report.drift.map(\.kind) == [.dockerfilePort])
        let missing = try CLI.run(["spec", "drift", bad.path + "/nope", "--spec", badSpec.path], cwd: bad)
        #expect(missing.status == 2)
    }
}

@Suite(.tags(.unit)) struct SpecDriftParsingTests {
    @Test(
        arguments: [
            ("${AUTH_HOST_PORT:-8083}:8088", 8083 as Int?, 8088), ("8096:8086", 8096, 8086), ("127.0.0.1:8083:8088", 8083, 8088),
            ("8080", nil, 8080), ("4317:4317/tcp", 4317, 4317), ("${PORT}:80", nil, 80),
        ] as [(String, Int?, Int)])
    func composePorts(text: String, host: Int?, container: Int) throws {
        let p = try #require(ComposeFile.parsePort(text))
        #expect(p.host == host && p.container == container)
    }

    @Test func publishedImageNames() {
        #expect(SpecDrift.publishedImages(in: "image_name: unison-auth", org: "project-unisonos", repo: "r") == ["unison-auth"])
        #expect(
            SpecDrift.publishedImages(
                in: "IMAGE: ghcr.io/${{ github.repository_owner }}/unison-platform:${{ inputs.tag }}",
                org: "project-unisonos", repo: "r") == ["unison-platform"])
        #expect(
            SpecDrift.publishedImages(in: "- ghcr.io/${{ github.repository }}:latest", org: "project-unisonos", repo: "unison-actuation")
                == ["unison-actuation"])
        #expect(
            SpecDrift.publishedImages(in: "tags: ghcr.io/project-unisonOS/unison-common-wheel:latest", org: "project-unisonos", repo: "r")
                == ["unison-common-wheel"])
        #expect(SpecDrift.publishedImages(in: "image_name: ${{ inputs.image_name }}", org: "project-unisonos", repo: "r").isEmpty)
    }

    @Test func dockerfileFactsFollowTheLastStage() {
        let facts = DockerfileFacts.parse(DriftFixture.authDockerfile)
        #expect(facts.exposed.map(\.port) == [8088] && facts.exposed.first?.line == 6)
        #expect(facts.commandPort?.port == 8088 && facts.commandPort?.line == 7)
        let shell = DockerfileFacts.parse("FROM x\nCMD [\"sh\", \"-c\", \"python -m uvicorn app --host 0.0.0.0 --port ${SERVICE_PORT:-8090}\"]\n")
        #expect(shell.commandPort?.port == 8090)
        let none = DockerfileFacts.parse("FROM x\nCMD [\"python\", \"src/server.py\"]\n")
        #expect(none.commandPort == nil && none.exposed.isEmpty)
    }

    @Test func healthProbes() {
        #expect(ComposeFile.probe("CMD curl -f http://localhost:8088/readyz") == .http(port: 8088, path: "/readyz"))
        #expect(ComposeFile.probe("CMD wget --quiet --tries=1 --spider http://localhost:8222/varz") == .http(port: 8222, path: "/varz"))
        #expect(ComposeFile.probe("CMD-SHELL pg_isready -U unison -d unison") == .command("pg_isready -U unison -d unison"))
    }
}
