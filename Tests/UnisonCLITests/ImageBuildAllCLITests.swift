import Foundation
import Testing
import UnisonTestSupport

/// `image build all`: several targets in one run through the CLI, one versioned JSON report,
/// the same bytes as the target's own command; unknown targets refused before any work.
@Suite("image build all through the CLI", .serialized, .tags(.interop))
struct ImageBuildAllCLITests {
    static let environment = ["UNISONCTL_QUIET": "1", "SOURCE_DATE_EPOCH": "1700000000"]

    /// A tiny base directory the platform installs onto.
    static func base(in dir: URL) throws -> URL {
        let base = dir.appendingPathComponent("base")
        for sub in ["etc", "usr/bin", "var/lib"] {
            try FileManager.default.createDirectory(at: base.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: base.appendingPathComponent("etc/passwd"))
        try Data("ID=debian\n".utf8).write(to: base.appendingPathComponent("etc/os-release"))
        return base
    }

    @Test("--targets wsl --json: one report naming its schema, the same artifact as image build wsl")
    func wslThroughAll() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.base(in: dir)
        let spec = CLI.repoRoot.appendingPathComponent("unison.yaml").path
        let all = dir.appendingPathComponent("all"), single = dir.appendingPathComponent("single")
        let r = try CLI.run(
            [
                "image", "build", "all", "--targets", "wsl", "--spec", spec, "--base", base.path, "--out", all.path,
                "--version", "0.5.0", "--unisonctl-binary", "/bin/true", "--json",
            ], environment: Self.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(report["schema"] as? String == "unisonctl.image-build.all/v1")
        let results = try #require(report["results"] as? [[String: Any]])
        #expect(results.map { $0["schema"] as? String } == ["unisonctl.image-build.wsl/v1"])

        let one = try CLI.run(
            [
                "image", "build", "wsl", "--spec", spec, "--base", base.path, "--out", single.path,
                "--version", "0.5.0", "--unisonctl-binary", "/bin/true",
            ], environment: Self.environment)
        #expect(one.status == 0, "\(one.stderr)")
        for name in ["unisonos-wsl2-0.5.0.tar.gz", "unisonos-wsl2-0.5.0.wsl"] {
            let a = try Data(contentsOf: all.appendingPathComponent(name)), b = try Data(contentsOf: single.appendingPathComponent(name))
            #expect(a == b, "\(name): the same bytes from image build all and image build wsl")
        }
    }

    @Test("an unknown target is refused before any work, naming it")
    func unknownTarget() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(["image", "build", "all", "--targets", "wsl,dvd", "--out", out.path], environment: Self.environment)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("unknown target dvd"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
