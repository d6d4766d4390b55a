import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// A workspace laid out like UnisonOS's (every repo of the project's own unison.yaml as a
/// submodule of the meta repository, each kept the way the rules ask) must give no error and
/// no warning: the checks raise no false alarm.
@Suite(.tags(.interop)) struct CleanWorkspaceTests {
    /// Builds the clean workspace; returns the sandbox and the meta repository.
    static func build(spec: PlatformSpec) throws -> (Sandbox, URL) {
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

    @Test func unisonOSLayoutHasNoErrorAndNoWarning() throws {
        let spec = try Specs.real()
        let (sandbox, meta) = try Self.build(spec: spec)
        let report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        #expect(report.findings.isEmpty, "unexpected findings:\n\(report.findings.described)")
        #expect(!report.hasErrors)
        #expect(report.exitStatus == .ok)
        _ = sandbox
    }

    /// A fresh `git clone --recurse-submodules` leaves every submodule detached at the recorded
    /// commit: that is reported as information only.
    @Test func freshRecursiveCloneIsClean() throws {
        let spec = try Specs.real()
        let (sandbox, meta) = try Self.build(spec: spec)
        let clone = sandbox.root.appendingPathComponent("clone")
        try sandbox.git(sandbox.root, "clone", "-q", "--recurse-submodules", meta.path, clone.path)
        let report = try WorkspaceCheck.run(directory: clone, spec: spec, runner: sandbox.runner)
        #expect(report.findings.serious.isEmpty, "unexpected findings:\n\(report.findings.serious.described)")
        let detached = report.findings.with(.gitDetachedHead)
        #expect(detached.count == spec.repos.filter { $0.checkout != .external }.count - 1)
        #expect(detached.allSatisfy { $0.severity == .info })
    }

    /// The same workspace as sibling clones in a plain directory (no meta repository).
    @Test func siblingClonesAreAccepted() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        for repo in spec.repos where repo.role != .service {
            try sandbox.repo(repo.name, files: try GoodRepo.files(repo, spec: spec))
        }
        for repo in spec.repos where repo.role == .service {
            try sandbox.repo(repo.name, files: try GoodRepo.files(repo, spec: spec), tags: ["v0.4.0"])
        }
        try sandbox.commit(
            sandbox.root.appendingPathComponent("src/unison-docs"), "dev/compatibility-matrix.md",
            "| platform | auth | orchestrator | policy |\n|---|---|---|---|\n| v0.4.0 | v0.4.0 | v0.4.0 | v0.4.0 |\n")
        let report = try WorkspaceCheck.run(directory: sandbox.root.appendingPathComponent("src"), spec: spec, runner: sandbox.runner)
        #expect(report.findings.isEmpty, "unexpected findings:\n\(report.findings.described)")
    }

    @Test func cliExitsZeroWithEmptyFindingsOnTheCleanWorkspace() throws {
        let spec = try Specs.real()
        let (sandbox, meta) = try Self.build(spec: spec)
        let result = try CLI.run(["workspace", "check", "--spec", Paths.realSpec.path, meta.path, "--json"], cwd: sandbox.root)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "unisonctl.workspace-check/v1")
        #expect((object["findings"] as? [Any])?.isEmpty == true)
        #expect(result.stdout.hasPrefix("{\n  \"schema\""))

        let markdown = try CLI.run(["workspace", "check", "--spec", Paths.realSpec.path, "--markdown", meta.path], cwd: sandbox.root)
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# UnisonOS workspace gap report"))
        #expect(markdown.stdout.contains("No gaps found"))
    }
}
