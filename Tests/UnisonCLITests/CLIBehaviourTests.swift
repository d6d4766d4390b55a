import Foundation
import Testing
import UnisonTestSupport

/// Commands whose CLI behaviour the issue on silent gaps named: installs into a temp root for
/// every mode, the stamped version, flags --payload would ignore, and qa's help.
@Suite("install modes, --version, refused flags and help through the CLI", .tags(.unit))
struct CLIBehaviourTests {
    @Test("install wsl and install docker stage an install into a temp root through the CLI")
    func installWSLAndDocker() throws {
        let spec = CLI.repoRoot.appendingPathComponent("unison.yaml").path
        for (mode, install) in [("wsl", ["install", "wsl"]), ("docker", ["install", "docker"])] {
            let dir = try CLI.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try CLI.run(install + ["--root", dir.path, "--spec", spec, "--no-binary", "--json"])
            #expect(r.status == 0, "\(mode): \(r.stderr)")
            let outcome = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(outcome["schema"] as? String == "unisonctl.install/v1")
            #expect(
                (outcome["hostActions"] as? [String])?.contains { $0.hasPrefix("skipped for a staging root") } == true,
                "\(mode): nothing done on this host")
            let manifestURL = dir.appendingPathComponent("var/lib/unison/install-manifest.json")
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])
            #expect(manifest["mode"] as? String == mode)
            #expect(FileManager.default.fileExists(atPath: dir.path + "/opt/unison-platform/compose.yaml"))
            var st = stat()
            #expect(lstat(dir.path + "/etc/unison/platform.env", &st) == 0 && st.st_mode & 0o777 == 0o600)
            let wslConf = (try? String(contentsOfFile: dir.path + "/etc/wsl.conf", encoding: .utf8)) ?? ""
            if mode == "wsl" {
                #expect(wslConf.range(of: #"systemd\s*=\s*true"#, options: .regularExpression) != nil, "install wsl turns systemd on: \(wslConf)")
            } else {
                #expect(wslConf.isEmpty, "install docker leaves /etc/wsl.conf alone")
            }
        }
    }

    @Test("--version prints the version the build was stamped with, and installs record it")
    func version() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0)
        let version = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$"#, options: .regularExpression) != nil, "\(version)")
        #expect(version != "0.1.0" && version != "0.0.0-dev", "stamped from git or UNISONCTL_VERSION, not a constant: \(version)")
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let install = try CLI.run([
            "install", "native", "--root", dir.path, "--no-binary", "--no-start",
            "--spec", CLI.repoRoot.appendingPathComponent("unison.yaml").path,
        ])
        #expect(install.status == 0, "\(install.stderr)")
        let manifest =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("var/lib/unison/install-manifest.json")))
            as? [String: Any]
        #expect(manifest?["toolVersion"] as? String == version)
        let compose = try String(contentsOfFile: dir.path + "/opt/unison-platform/compose.yaml", encoding: .utf8)
        #expect(compose.contains("unisonctl \(version) "), "\(compose.prefix(200))")
    }

    @Test(
        "image build iso --payload refuses the flags it would ignore, naming them, before writing anything",
        arguments: [
            ["--models", "light"], ["--model-registry", "127.0.0.1:5000"], ["--release-manifest", "m.json"],
            ["--unisonctl-binary", "/bin/true"],
        ])
    func payloadRefusesIgnoredFlags(flag: [String]) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(
            [
                "image", "build", "iso", "--spec", CLI.repoRoot.appendingPathComponent("unison.yaml").path,
                "--payload", dir.appendingPathComponent("disk.qcow2").path, "--out", out.path,
            ] + flag)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("\(flag[0]) cannot be used with --payload"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("qa's help, and its line in unisonctl --help, name every qa command, install included")
    func qaHelp() throws {
        let r = try CLI.run(["qa", "--help"])
        #expect(r.status == 0)
        let overview = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("OVERVIEW:") })
        let root = try CLI.run(["--help"])
        let line = try #require(root.stdout.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("qa ") })
        for sub in ["smoke", "e2e", "boot", "install"] {
            #expect(r.stdout.contains("\n  \(sub) "), "\(sub) missing from the subcommands of qa --help:\n\(r.stdout)")
            #expect(overview.contains(sub) && line.contains(sub), "\(sub) missing from: \(overview) / \(line)")
        }
    }
}
