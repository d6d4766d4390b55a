import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// The built `unisonctl` run as a subprocess: release and compat commands end to end.
@Suite(.tags(.interop))
struct ReleaseCLITests {
    static var binary: URL { Unisonctl.binary }

    static func run(_ args: [String], cwd: URL, env: [String: String] = [:]) throws -> ProcessResult {
        var environment = ["NO_COLOR": "1", "UNISON_SPEC": "", "SOURCE_DATE_EPOCH": "1700000000"]
        for (k, v) in env { environment[k] = v }
        return try SystemProcessRunner().run([binary.path] + args, environment: environment, workingDirectory: cwd)
    }

    static let sha = "0123456789abcdef0123456789abcdef01234567"

    @Test func tagsJSONForAStableRelease() throws {
        let tmp = try TempDir("cli")
        let spec = try TestSpec.write(to: tmp.url)
        let r = try Self.run(
            [
                "release", "tags", "--spec", spec.path, "--ref", "refs/tags/v1.4.2", "--sha", Self.sha,
                "--service", "auth", "--date", "2020-01-10T00:30:00Z", "--license", "Apache-2.0", "--json",
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(json["schema"] as? String == "unisonctl.release-tags/v1")
        #expect(json["channel"] as? String == "stable")
        let version = try #require(json["version"] as? [String: Any])
        #expect(version["main"] as? String == "v1.4.2")
        #expect(version["partial"] as? [String] == ["v1.4", "v1", "0123456"])
        #expect(version["latest"] as? Bool == true)
        let image = "ghcr.io/project-unisonos/unison-auth"
        #expect(json["tags"] as? [String] == ["v1.4.2", "v1.4", "v1", "0123456", "latest"].map { "\(image):\($0)" })
        let labels = try #require(json["labels"] as? [String])
        #expect(labels.first == "org.opencontainers.image.created=2020-01-10T00:30:00.000Z")
        #expect(labels.contains("org.opencontainers.image.licenses=Apache-2.0"))
        #expect(labels.contains("org.opencontainers.image.version=v1.4.2"))
    }

    @Test func tagsToGitHubOutputAndPlainText() throws {
        let tmp = try TempDir("cli")
        let out = tmp.path("github_output")
        try Data("earlier=1\n".utf8).write(to: out)
        let r = try Self.run(
            [
                "release", "tags", "--event", "schedule", "--ref", "refs/heads/main", "--sha", Self.sha,
                "--image", "ghcr.io/x/y", "--tag", "type=schedule,pattern={{date 'YYYYMMDD' tz='Asia/Tokyo'}}",
                "--tag", "type=sha", "--flavor", "latest=false", "--date", "2020-01-10T20:30:00Z",
                "--github-output", out.path,
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stdoutString == "ghcr.io/x/y:20200111\nghcr.io/x/y:sha-0123456\n")
        let outputs = GitHubOutput.parse(try String(contentsOf: out, encoding: .utf8))
        let byName = Dictionary(outputs.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        #expect(byName["earlier"] == "1")
        #expect(byName["version"] == "20200111")
        #expect(byName["tags"] == "ghcr.io/x/y:20200111\nghcr.io/x/y:sha-0123456")
        #expect(byName["labels"]?.split(separator: "\n").count == 8)
    }

    @Test func commitDateComesFromTheRepository() throws {
        let tmp = try TempDir("cli")
        let repo = try TestRepo.create(at: tmp.path("svc"))
        let sha = try repo.commit("feat: x")
        let committed = try repo.git("show", "-s", "--format=%cd", "--date=format:%Y%m%d%H%M", sha).trimmingCharacters(in: .whitespacesAndNewlines)
        let args = [
            "release", "tags", "--ref", "refs/heads/main", "--sha", sha, "--date", "2020-01-10T00:30:00Z",
            "--tag", "type=raw,value={{commit_date 'YYYYMMDDHHmm'}}", "--tag", "type=raw,value={{date 'YYYYMMDD'}}",
        ]
        var r = try Self.run(args + ["--repo", repo.url.path], cwd: tmp.url, env: ["TZ": "UTC"])
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stdoutString == "\(committed)\n20200110\n")
        r = try Self.run(args + ["--repo", repo.url.path, "--commit-date", "2021-05-06T07:08:09Z"], cwd: tmp.url)
        #expect(r.stdoutString == "202105060708\n20200110\n")
        r = try Self.run(args, cwd: tmp.url)  // not a repository: the commit date falls back to --date
        #expect(r.stdoutString == "202001100030\n20200110\n")
    }

    @Test(arguments: [
        (["--ref", "refs/heads/main", "--sha", "xyz"], "--sha must be 40 hex digits"),
        (["--ref", "refs/heads/main", "--tag", "type=nope"], "unknown tag type 'nope'"),
        (["--ref", "heads/main", "--tag", "type=sha"], "is not a git ref"),
        (["--ref", "refs/heads/main", "--tag", "type=raw,value=x", "--date", "yesterday"], "not an ISO 8601"),
    ])
    func badInputExitsTwo(_ args: [String], _ message: String) throws {
        let tmp = try TempDir("cli")
        let r = try Self.run(["release", "tags"] + args, cwd: tmp.url)
        #expect(r.status == 2)
        #expect(r.stderrString.contains(message), "\(r.stderrString)")
        #expect(r.stdout.isEmpty)
    }

    @Test func versionPlanNotesManifestChecksumsAndCompat() throws {
        let tmp = try TempDir("cli")
        let spec = try TestSpec.write(to: tmp.url)
        let ws = tmp.path("ws")
        let orch = try TestRepo.create(at: ws.appendingPathComponent("unison-orchestrator"))
        try orch.commit("feat: routing")
        try orch.tag("v0.4.1")
        try orch.commit("feat(api): intents")
        try orch.commit("fix: crash")
        let auth = try TestRepo.create(at: ws.appendingPathComponent("unison-auth"))
        try auth.commit("feat: jwt")
        try auth.tag("v0.9.0")
        let storage = try TestRepo.create(at: ws.appendingPathComponent("unison-storage"))
        try storage.commit("fix: first")
        let platform = try TestRepo.create(at: ws.appendingPathComponent("unison-platform"))
        let platformHead = try platform.commit("feat: release")

        // release version
        var r = try Self.run(["release", "version", "--repo", orch.url.path, "--spec", spec.path], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(r.stdoutString.hasPrefix("v0.5.0 (minor, feature; previous: v0.4.1)\n"))
        r = try Self.run(["release", "version", "--repo", orch.url.path, "--json"], cwd: tmp.url)
        let version = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(version["schema"] as? String == "unisonctl.release-version/v1")
        #expect(version["next"] as? String == "v0.5.0")
        #expect((version["commits"] as? [Any])?.count == 2)

        // release plan
        r = try Self.run(["release", "plan", "--version", "v0.5.0", "--workspace", ws.path, "--spec", spec.path, "--json"], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let plan = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        // Policy: included service repos take the platform's version; auth's own v0.9.0 is newer, so it stays.
        #expect(plan["matrixRow"] as? [String: String] == ["orchestrator": "v0.5.0", "auth": "v0.9.0", "storage": "v0.5.0"])
        r = try Self.run(["release", "plan", "--version", "v0.5.0", "--workspace", ws.path, "--spec", spec.path, "--markdown"], cwd: tmp.url)
        #expect(r.stdoutString.contains("| v0.5.0 | v0.5.0 | v0.9.0 | v0.5.0 |"))

        // release notes
        r = try Self.run(
            [
                "release", "notes", "--version", "v0.5.0", "--workspace", ws.path, "--spec", spec.path,
                "--output", tmp.path("NOTES.md").path,
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let notes = try String(contentsOf: tmp.path("NOTES.md"), encoding: .utf8)
        #expect(notes.hasPrefix("# UnisonOS v0.5.0\n"))
        #expect(notes.contains("- **unison-orchestrator** (api): intents ("))

        // compat add from the workspace, show, check
        let matrix = tmp.path("docs/compatibility-matrix.md")
        r = try Self.run(["compat", "add", "--version", "v0.5.0", "--workspace", ws.path, "--spec", spec.path, "--file", matrix.path], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        r = try Self.run(
            [
                "compat", "add", "--version", "v0.4.0", "--service", "orchestrator=v1.2.3", "--service", "auth=>=0.8.0 <0.10.0",
                "--spec", spec.path, "--file", matrix.path,
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let text = try String(contentsOf: matrix, encoding: .utf8)
        // Columns are the services' repositories, as unison-docs' matrix has them.
        #expect(
            text.contains(
                "| platform | unison-orchestrator | unison-auth | unison-storage |\n|---|---|---|---|\n| v0.5.0 | v0.5.0 | v0.9.0 | v0.5.0 |\n| v0.4.0 | v1.2.3 | >=0.8.0 <0.10.0 | - |\n"
            ), "\(text)")
        r = try Self.run(
            ["compat", "add", "--version", "v0.5.0", "--service", "auth=v1.0.0", "--spec", spec.path, "--file", matrix.path], cwd: tmp.url)
        #expect(r.status == 2)
        #expect(r.stderrString.contains("already has a row for v0.5.0"))
        r = try Self.run(
            ["compat", "check", "--file", matrix.path, "--installed", "orchestrator=v1.2.3", "--installed", "auth=v0.9.5"], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stdoutString)\(r.stderrString)")
        #expect(r.stdoutString == "matches v0.4.0\n")
        r = try Self.run(
            ["compat", "check", "--file", matrix.path, "--installed", "orchestrator=v0.5.0", "--installed", "auth=v0.9.0", "--json"], cwd: tmp.url)
        #expect(r.status == 1)
        let check = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(check["platform"] as? String == "v0.5.0")
        #expect((check["differences"] as? [[String: Any]])?.first?["service"] as? String == "unison-storage")
        r = try Self.run(["compat", "show", "--file", matrix.path, "--json"], cwd: tmp.url)
        #expect(
            (try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])?["services"] as? [String] == [
                "unison-orchestrator", "unison-auth", "unison-storage",
            ])

        // manifest (tags from the matrix row, digests from a file and a flag) and checksums
        let dist = tmp.path("dist")
        try FileManager.default.createDirectory(at: dist, withIntermediateDirectories: true)
        try Data("image bytes\n".utf8).write(to: dist.appendingPathComponent("unisonos-wsl2-v0.5.0.tar.gz"))
        let digests = tmp.path("digests.json")
        try Data(#"{"orchestrator": "sha256:\#(String(repeating: "1", count: 64))", "auth": "sha256:\#(String(repeating: "2", count: 64))"}"#.utf8)
            .write(to: digests)
        var args = [
            "release", "manifest", "--version", "v0.5.0", "--spec", spec.path, "--repo", platform.url.path, "--matrix", matrix.path,
            "--digests", digests.path, "--artifacts", dist.path,
        ]
        r = try Self.run(args, cwd: tmp.url)
        #expect(r.status == 2)
        #expect(r.stderrString.contains("no image digest for storage"))
        args += ["--digest", "storage=sha256:" + String(repeating: "3", count: 64)]
        r = try Self.run(args, cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let manifestURL = dist.appendingPathComponent("unisonos-manifest-v0.5.0.json")
        let manifest = try JSONDecoder().decode(ReleaseManifest.self, from: Data(contentsOf: manifestURL))
        #expect(manifest.release.git.commit == platformHead)
        #expect(manifest.release.builtAt == "2023-11-14T22:13:20Z")
        #expect(
            ["orchestrator", "auth", "storage"].map { manifest.compose.imagesFromCompose[$0]?.split(separator: ":").last.map(String.init) }
                == ["v0.5.0", "v0.9.0", "v0.5.0"])
        #expect(Array(manifest.assets.keys) == ["unisonos-wsl2-v0.5.0.tar.gz"])
        r = try Self.run(["release", "checksums", "--version", "v0.5.0", "--artifacts", dist.path], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let check2 = try SystemProcessRunner().run(["sha256sum", "-c", "--strict", "SHA256SUMS-v0.5.0.txt"], workingDirectory: dist)
        #expect(check2.status == 0, "\(check2.stdoutString)\(check2.stderrString)")
        #expect(check2.stdoutString == "unisonos-manifest-v0.5.0.json: OK\nunisonos-wsl2-v0.5.0.tar.gz: OK\n")

        // release channel: a release branch's beta numbered by the CI run; without one, refused
        r = try Self.run(
            ["release", "channel", "--ref", "refs/heads/release/1.3", "--repo", orch.url.path, "--spec", spec.path, "--json"], cwd: tmp.url)
        #expect(r.status != 0)
        #expect(r.stderrString.contains("--run-number"))
        r = try Self.run(
            [
                "release", "channel", "--ref", "refs/heads/release/1.3", "--run-number", "57", "--repo", orch.url.path,
                "--spec", spec.path, "--json",
            ], cwd: tmp.url)
        let channel = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(channel["channel"] as? String == "beta")
        #expect(channel["version"] as? String == "v1.3.0-beta.57")

        // The same for a workflow step, appended to $GITHUB_OUTPUT; a nightly carries no version
        // (the workflow names it after the day); the alpha is a draft pre-release; on a master repo
        // master is the nightly.
        let githubOutput = tmp.path("github_output")
        r = try Self.run(
            [
                "release", "channel", "--ref", "refs/heads/release/1.3", "--run-number", "57", "--repo", orch.url.path,
                "--spec", spec.path, "--github-output", githubOutput.path,
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        r = try Self.run(
            [
                "release", "channel", "--ref", "refs/heads/master", "--default-branch", "master", "--event", "schedule",
                "--repo", orch.url.path, "--spec", spec.path, "--github-output", githubOutput.path,
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        r = try Self.run(
            [
                "release", "channel", "--ref", "refs/tags/v0.5.0-alpha.1", "--repo", orch.url.path,
                "--spec", spec.path, "--github-output", githubOutput.path,
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let outputs = GitHubOutput.parse(try String(contentsOf: githubOutput, encoding: .utf8))
        let names = ["channel", "version", "prerelease", "github-release", "target"]
        #expect(outputs.map(\.name) == names + names + names)
        #expect(
            outputs.map(\.value) == [
                "beta", "v1.3.0-beta.57", "true", "", "",
                "nightly", "", "false", "", "",
                "alpha", "v0.5.0-alpha.1", "true", "draft", "",
            ])
    }

    /// `v0.5.0-alpha.1` end to end through the CLI: channel, image tags, targets, manifest.
    @Test func theRealAlphaEndToEnd() throws {
        let tmp = try TempDir("alpha")
        let spec = try TestSpec.write(to: tmp.url)
        var r = try Self.run(
            [
                "release", "tags", "--spec", spec.path, "--ref", "refs/tags/v0.5.0-alpha.1", "--sha", Self.sha,
                "--default-branch", "master", "--service", "auth", "--date", "2020-01-10T00:30:00Z", "--json",
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let tags = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(tags["channel"] as? String == "alpha")
        #expect(tags["githubRelease"] as? String == "draft")
        #expect(tags["prerelease"] as? Bool == true)
        #expect(tags["tags"] as? [String] == ["v0.5.0-alpha.1", "0123456"].map { "ghcr.io/project-unisonos/unison-auth:\($0)" })

        r = try Self.run(["release", "targets", "--spec", spec.path, "--version", "v0.5.0-alpha.1", "--json"], cwd: tmp.url)
        let targets = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(targets["bundle"] as? Bool == true)
        r = try Self.run(["release", "targets", "--spec", spec.path, "--version", "v0.5.0"], cwd: tmp.url)
        #expect(r.stdoutString.contains("bare-metal v0.5.0-bare-metal -> latest-bare-metal  unisonos-baremetal-v0.5.0.iso"))

        let dist = tmp.path("dist")
        try FileManager.default.createDirectory(at: dist, withIntermediateDirectories: true)
        try Data(repeating: 0x5a, count: 3 << 20).write(to: dist.appendingPathComponent("unisonos-baremetal-v0.5.0-alpha.1.iso"))
        r = try Self.run(
            [
                "release", "split-iso", dist.appendingPathComponent("unisonos-baremetal-v0.5.0-alpha.1.iso").path,
                "--part-size", String(2 << 20),
            ], cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        #expect(
            r.stdoutString
                == "unisonos-baremetal-v0.5.0-alpha.1.iso.part00\nunisonos-baremetal-v0.5.0-alpha.1.iso.part01\nunisonos-baremetal-v0.5.0-alpha.1.iso.REASSEMBLE.txt\n"
        )
        var args = ["release", "manifest", "--spec", spec.path, "--version", "v0.5.0-alpha.1", "--commit", Self.sha, "--artifacts", dist.path]
        for s in ["orchestrator", "auth", "storage"] {
            args += ["--service-tag", "\(s)=v0.5.0-alpha.1", "--digest", "\(s)=sha256:" + String(repeating: "e", count: 64)]
        }
        r = try Self.run(args, cwd: tmp.url)
        #expect(r.status == 0, "\(r.stderrString)")
        let manifest = try JSONDecoder().decode(
            ReleaseManifest.self, from: Data(contentsOf: dist.appendingPathComponent("unisonos-manifest-v0.5.0-alpha.1.json")))
        #expect(manifest.release.channel == "alpha")
        #expect(
            manifest.assets.keys.sorted() == [
                "unisonos-baremetal-v0.5.0-alpha.1.iso.REASSEMBLE.txt",
                "unisonos-baremetal-v0.5.0-alpha.1.iso.part00", "unisonos-baremetal-v0.5.0-alpha.1.iso.part01",
            ])
    }
}
