import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

/// The rules on the shapes the real UnisonOS repositories have: the matrix of unison-docs
/// (`| Release | unison-orchestrator | … |`, x-ranges, columns for repos that exist nowhere),
/// README links to files that do not exist, the devstack's overlays publishing one host port
/// twice, service repos never tagged, repos whose default branch is `master`.
@Suite(.tags(.interop)) struct RealLayoutTests {
    /// unison-docs `dev/compatibility-matrix.md`'s form, over the small platform's repos.
    static let realMatrix = """
        # Compatibility Matrix

        | Release | unison-orchestrator | unison-auth | unison-io-canvas | unison-policy | unison-hal | unison-devstack |
        |---------|---------------------|-------------|------------------|---------------|------------|-----------------|
        | 0.0.1   | 0.1.x               | ^0.1.0      | 0.1.x            | ~0.1.0        | 0.1.x      | -               |

        """

    /// Builds the small workspace with `change` applied to each repo's files, `tags` per repo.
    static func workspace(
        _ sandbox: Sandbox, spec: PlatformSpec, tags: [String: [String]],
        change: (String, inout [String: String]) -> Void = { _, _ in },
        masterRepos: Set<String> = []
    ) throws -> URL {
        for repo in spec.repos where repo.role != .workspace {
            var files = try GoodRepo.files(repo, spec: spec)
            if repo.role == .docs { files["dev/compatibility-matrix.md"] = realMatrix }
            change(repo.name, &files)
            let dir = try sandbox.repo(repo.name, files: files, tags: tags[repo.name] ?? [])
            if masterRepos.contains(repo.name) { try sandbox.git(dir, "branch", "-q", "-m", "main", "master") }
        }
        let metaRepo = try #require(spec.repos.first { $0.role == .workspace })
        var metaFiles = try GoodRepo.files(metaRepo, spec: spec)
        change(metaRepo.name, &metaFiles)
        return try sandbox.meta(
            submodules: spec.repos.filter { $0.role != .workspace }.map(\.name),
            name: metaRepo.name, files: metaFiles)
    }

    @Test func theRealMatrixIsReadAndColumnsForReposThatExistNowhereAreReported() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let meta = try Self.workspace(sandbox, spec: spec, tags: ["unison-auth": ["v0.1.3"], "unison-platform": ["v0.0.1-alpha.1"]])
        let f = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner).findings
        let file = "unison-docs/dev/compatibility-matrix.md"

        // Read: no missing matrix, no bad cell, nothing the release tooling rejects.
        #expect(
            f.with(.compatMissingMatrix).isEmpty && f.with(.compatBadCell).isEmpty && f.with(.compatUnreadable).isEmpty,
            "\(f.described)")
        let unknown = f.with(.compatUnknownColumn)
        #expect(unknown.map { "\($0.file!):\($0.line!)" } == ["\(file):3", "\(file):3"])
        #expect(unknown.allSatisfy { $0.message.contains("exists nowhere") && $0.severity == .warning })
        #expect(
            Set(unknown.compactMap { $0.message.split(separator: "'").dropFirst().first.map(String.init) }) == ["unison-io-canvas", "unison-hal"])
        // Repository columns cover the services; a non-service repo of the spec is not unknown.
        #expect(f.with(.compatMissingServiceColumn).isEmpty)

        // x-, caret and tilde ranges against the tags: auth v0.1.3 satisfies ^0.1.0; orchestrator
        // and policy were never tagged (platform 0.0.1 is not released: warnings at the row).
        let missing = f.with(.tagsServiceMissingReleaseTag)
        #expect(Set(missing.map(\.repo)) == ["unison-orchestrator", "unison-policy"])
        #expect(missing.allSatisfy { $0.line == 5 && $0.file == file && $0.severity == .warning })
        #expect(missing.contains { $0.message.contains("no tag in 0.1.x") })
        let never = f.with(.tagsNeverTagged)
        #expect(Set(never.map(\.repo)) == ["unison-orchestrator", "unison-policy"])
        #expect(never.allSatisfy { $0.severity == .warning && $0.file == nil && $0.hint.contains("tag v0.1.0") })
    }

    @Test func brokenRelativeAndCrossRepoLinksAreReportedAtTheirLines() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        var lines: [String: Int] = [:]
        let meta = try Self.workspace(
            sandbox, spec: spec, tags: [:],
            change: { name, files in
                var readme = files["README.md"] ?? ""
                func add(_ line: String, key: String? = nil) {
                    readme += line + "\n"
                    if let key { lines[key] = readme.split(separator: "\n", omittingEmptySubsequences: false).count - 1 }
                }
                switch name {
                case "unison-workspace":
                    add("\n## Links")
                    add("- Platform roadmap: `unison-docs/roadmap/deployment-platform-roadmap.md`", key: "roadmap")
                    add("- Matrix: `unison-docs/dev/compatibility-matrix.md`")
                    add("- Elsewhere: `unison-hal/README.md` and `docs/*.md`")
                    add("```\nsee `unison-docs/none.md` in a code block\n```")
                case "unison-auth":
                    files["docs/guide.md"] = "# Guide\n"
                    add("\n[guide](docs/guide.md#setup) · [api](docs/api.md \"API\") · [site](https://example.com/x.md) · [top](#run)", key: "auth")
                    add("![logo](/assets/logo.png)", key: "logo")
                    add("[roles]: ../unison-docs/dev/roles.md", key: "roles")
                    add("[matrix](../unison-docs/dev/compatibility-matrix.md) [other org](https://github.com/someone/unison-docs/blob/main/x.md)")
                    add("[gh](https://github.com/project-unisonos/unison-docs/blob/main/dev/missing.md)", key: "github")
                    add("[gh ok](https://github.com/project-unisonos/unison-docs/tree/main/dev)")
                default: break
                }
                files["README.md"] = readme
            })
        let broken = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner).findings.with(.linksBroken)
        #expect(
            broken.map { "\($0.file!):\($0.line!)" }.sorted()
                == [
                    "README.md:\(lines["roadmap"]!)",
                    "unison-auth/README.md:\(lines["auth"]!)",
                    "unison-auth/README.md:\(lines["github"]!)",
                    "unison-auth/README.md:\(lines["logo"]!)",
                    "unison-auth/README.md:\(lines["roles"]!)",
                ].sorted(), "\(broken.described)")
        #expect(broken.allSatisfy { $0.severity == .warning })
        let roadmap = try #require(broken.first { $0.repo == "unison-workspace" })
        #expect(roadmap.message.contains("unison-docs/roadmap/deployment-platform-roadmap.md does not exist"))
        #expect(broken.contains { $0.message.contains("docs/api.md") && $0.repo == "unison-auth" })
    }

    @Test func hostPortsPublishedTwiceAcrossTheDevstacksFilesAndProfiles() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let base = """
            services:
              intent-graph:
                image: ghcr.io/project-unisonos/unison-intent-graph:v0.4.0
              payments:
                image: ghcr.io/project-unisonos/unison-payments:v0.4.0
                profiles: ["payments"]
              renderer:
                image: ghcr.io/project-unisonos/unison-experience-renderer:v0.4.0
                ports:
                  - "8092:8082"
              a:
                image: ghcr.io/project-unisonos/unison-auth:v0.4.0
                ports:
                  - target: 9100
                    published: "${A_PORT:-9100}"
              b:
                image: ghcr.io/project-unisonos/unison-policy:v0.4.0
                ports: ["9100:9100/udp", "127.0.0.1:9200:9200", "9300-9302:9300-9302"]
              c:
                image: ghcr.io/project-unisonos/unison-policy:v0.4.0
                ports:
                  - "127.0.0.2:9200:9200"
                  - "9000"
                  - 9301:80

            """
        let overlay = """
            # Dev ports
            services:
              intent-graph:
                ports:
                - 8089:8080
              payments:
                ports:
                - 8089:8089
              renderer:
                ports:
                  - "80:8082"
              d:
                image: ghcr.io/project-unisonos/unison-auth:v0.4.0
                ports:
                  - "9100:9100"

            """
        let meta = try Self.workspace(
            sandbox, spec: spec, tags: [:],
            change: { name, files in
                guard name == "unison-devstack" else { return }
                files["docker-compose.yml"] = base
                files["docker-compose.ports.yml"] = overlay
            })
        let collisions = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner).findings.with(.portsHostCollision)
        let shown = collisions.map { "\($0.file!):\($0.line!) \($0.severity.rawValue) \($0.message.split(separator: " ")[2])" }.sorted()
        #expect(
            shown
                == [
                    "unison-devstack/docker-compose.ports.yml:8 warning 8089/tcp",  // payments (profile) vs intent-graph
                    "unison-devstack/docker-compose.ports.yml:15 error 9100/tcp",  // d (an overlay) vs a (long syntax), both default
                    "unison-devstack/docker-compose.yml:24 error 9301/tcp",  // c vs b's range
                ].sorted(), "\(collisions.described)")
        let payments = try #require(collisions.first { $0.message.contains("8089") })
        #expect(payments.message.contains("payments") && payments.message.contains("intent-graph") && payments.message.contains("profile payments"))
        #expect(payments.hint.contains("give payments a free host port"))
    }

    @Test func reposOnMasterAreReportedOnceAndTheirCheckoutIsNotBlamed() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let meta = try Self.workspace(sandbox, spec: spec, tags: [:], masterRepos: ["unison-auth"])
        let f = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner).findings
        let defaultBranch = f.with(.gitDefaultBranch)
        #expect(defaultBranch.map(\.repo) == ["unison-auth"] && defaultBranch[0].severity == .warning)
        #expect(defaultBranch[0].message.contains("'master'") && defaultBranch[0].message.contains("'main'"))
        // `git submodule add` leaves it on its own default branch, master: not an unexpected branch.
        #expect(try sandbox.git(meta.appendingPathComponent("unison-auth"), "symbolic-ref", "--short", "HEAD") == "master")
        #expect(f.with(.gitUnexpectedBranch).isEmpty && f.with(.gitDetachedHead, repo: "unison-auth").isEmpty)
        // Detached at the recorded commit (as `git submodule update` leaves it): the normal checkout, info.
        try sandbox.git(meta.appendingPathComponent("unison-auth"), "checkout", "-q", "--detach")
        let detached = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner).findings
        #expect(detached.with(.gitDetachedHead, repo: "unison-auth").map(\.severity) == [.info])
        #expect(detached.with(.gitDetachedHead, repo: "unison-auth").first?.message.contains("(on 'master')") == true)
        // Checking another branch: master is then unexpected like any other.
        try sandbox.git(meta.appendingPathComponent("unison-auth"), "checkout", "-q", "master")
        let release = try WorkspaceCheck.run(directory: meta, spec: spec, expectedBranch: "release/0.4", runner: sandbox.runner).findings
        #expect(release.with(.gitUnexpectedBranch, repo: "unison-auth").count == 1)
    }

    /// The spec's repo fields: a missing column for an optional service is a warning, for a
    /// core one an error; an image a repo publishes under another name (`images:`) is known.
    @Test func repoStatusAndPublishedImagesOfTheSpec() throws {
        var spec = try Specs.small()
        let policy = try #require(spec.repos.firstIndex { $0.name == "unison-policy" })
        spec.repos[policy].status = .optional
        let auth = try #require(spec.repos.firstIndex { $0.name == "unison-auth" })
        spec.repos[auth].images = ["unison-auth", "unison-auth-wheel"]
        let sandbox = try Sandbox()
        let meta = try Self.workspace(
            sandbox, spec: spec, tags: [:],
            change: { name, files in
                if name == "unison-docs" {
                    files["dev/compatibility-matrix.md"] = "| Release | unison-orchestrator |\n|---|---|\n| 0.0.1 | 0.1.x |\n"
                }
                if name == "unison-orchestrator" {
                    files["Dockerfile"] =
                        "FROM ghcr.io/project-unisonos/unison-auth-wheel:v0.4.0 AS wheel\nFROM ghcr.io/project-unisonos/unison-gen:v0.4.0\n"
                }
            })
        let f = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner).findings
        let missing = f.with(.compatMissingServiceColumn)
        #expect(
            missing.map { "\($0.severity.rawValue) \($0.message.split(separator: "'")[1])" }.sorted() == ["error auth", "warning policy"],
            "\(missing.described)")
        let unknownImages = f.with(.ghcrBadReference).filter { $0.repo == "unison-orchestrator" }
        #expect(unknownImages.map(\.line) == [2] && unknownImages[0].message.contains("'unison-gen'"), "\(unknownImages.described)")
    }
}
