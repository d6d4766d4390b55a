import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

extension DriftFixture {
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
