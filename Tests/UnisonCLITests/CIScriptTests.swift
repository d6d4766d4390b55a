import Foundation
import Testing
import UnisonTestSupport

/// The CI scripts fail loudly: a missing tool, artifact or image target fails the run and is
/// named. Run with stand-in binaries and a narrowed PATH, never a real image build.
@Suite("CI scripts fail naming what is missing", .tags(.interop))
struct CIScriptTests {
    static func script(_ name: String) -> String { CLI.repoRoot.appendingPathComponent("scripts/\(name)").path }

    static func run(_ arguments: [String], environment: [String: String]) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = CLI.repoRoot
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return CLI.Result(
            status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    /// A directory of links to the given tools only (those found on this machine).
    static func pathWith(_ tools: [String], in dir: URL) throws -> String {
        let bin = dir.appendingPathComponent("path")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for tool in tools {
            for candidate in ["/usr/bin", "/bin", "/usr/sbin", "/usr/local/bin"].map({ "\($0)/\(tool)" })
            where FileManager.default.isExecutableFile(atPath: candidate) {
                try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(tool).path, withDestinationPath: candidate)
                break
            }
        }
        return bin.path
    }

    static func write(_ text: String, to url: URL, mode: mode_t = 0o755) throws {
        try Data(text.utf8).write(to: url)
        chmod(url.path, mode)
    }

    @Test("check-artifacts: without xorriso on PATH, or without an ISO, it fails and names both")
    func checkArtifactsNamesWhatIsMissing() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for name in ["unisonos-wsl2-1.0.0.tar.gz", "unisonos-wsl2-1.0.0.wsl", "unisonos-linux-vm-1.0.0.qcow2", "unisonos-linux-vm-1.0.0.vmdk"] {
            FileManager.default.createFile(atPath: out.appendingPathComponent(name).path, contents: Data())
        }
        let everything = ["bash", "dirname", "env", "gzip", "tar", "bsdtar", "cmp", "qemu-img", "sha256sum", "qemu-system-x86_64", "xorriso"]
        let noXorriso = try Self.pathWith(everything.filter { $0 != "xorriso" }, in: dir)
        let r = try Self.run([Self.script("check-artifacts.sh"), out.path], environment: ["PATH": noXorriso, "UNISONCTL_BIN": "/bin/true"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing tool xorriso"), "\(r.stderr)")
        #expect(r.stderr.contains("missing artifact unisonos-baremetal-*.iso"), "\(r.stderr)")
        #expect(!r.stderr.contains("missing artifact unisonos-wsl2"), "present artifacts are not reported: \(r.stderr)")
        #expect(!r.stdout.contains("== WSL"), "nothing is checked before everything is there")

        // With every tool, the missing ISO alone still fails the run.
        let full = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let noISO = try Self.run([Self.script("check-artifacts.sh"), out.path], environment: ["PATH": full, "UNISONCTL_BIN": "/bin/true"])
        #expect(noISO.status == 1)
        #expect(noISO.stderr.contains("missing artifact unisonos-baremetal-*.iso"), "\(noISO.stderr)")
    }

    @Test("build.sh: a failing image target fails the run naming it; the output directory starts empty")
    func buildNamesTheFailingTarget() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("calls.log")
        // A stand-in unisonctl: `image build all --targets LIST --out DIR` writes an artifact per
        // target in order and stops at the one in $FAIL_TARGET, naming it as unisonctl does.
        let fake = dir.appendingPathComponent("unisonctl")
        try Self.write(
            """
            #!/bin/sh
            echo "$*" >> '\(log.path)'
            if [ "$1 $2 $3 $4 $6" = "image build all --targets --out" ]; then
              for t in $(echo "$5" | tr , ' '); do
                [ "$t" = "$FAIL_TARGET" ] && { echo "unisonctl: image target '$t' failed: stand-in" >&2; exit 1; }
                touch "$7/unisonos-$t-artifact"
              done
            fi
            exit 0
            """, to: fake)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        // A stale artifact from an earlier run of build.sh (the stamp says so).
        FileManager.default.createFile(atPath: out.appendingPathComponent(".unisonctl-build-output").path, contents: Data())
        FileManager.default.createFile(atPath: out.appendingPathComponent("unisonos-baremetal-0.0.1.iso").path, contents: Data("old".utf8))
        var env = ProcessInfo.processInfo.environment
        env["UNISONCTL_BIN"] = fake.path
        env["SKIP_SETUP"] = "1"
        env["OUT"] = out.path
        env["FAIL_TARGET"] = "iso"
        let failed = try Self.run([Self.script("build.sh")], environment: env)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("image target 'iso' failed"), "\(failed.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(left == [".unisonctl-build-output", "unisonos-vm-artifact", "unisonos-wsl-artifact"], "the stale ISO is gone: \(left)")
        let calls = try String(contentsOf: log, encoding: .utf8)
        #expect(calls.contains("image build all --targets wsl,vm,iso --out \(out.path)"), "one run names every target: \(calls)")

        env["FAIL_TARGET"] = "none"
        let ok = try Self.run([Self.script("build.sh")], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")

        // A directory build.sh did not make is not emptied.
        let foreign = dir.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: foreign.appendingPathComponent("notes.txt").path, contents: Data("mine".utf8))
        env["OUT"] = foreign.path
        let refused = try Self.run([Self.script("build.sh")], environment: env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was not made by build.sh"), "\(refused.stderr)")
        #expect(FileManager.default.fileExists(atPath: foreign.appendingPathComponent("notes.txt").path))
    }

    @Test("test.sh refuses an unknown tier")
    func unknownTier() throws {
        let r = try Self.run([Self.script("test.sh"), "--tier", "fast"], environment: ProcessInfo.processInfo.environment)
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown tier 'fast'"), "\(r.stderr)")
    }

    @Test("version.sh: a tag, commits after it, no tag, a dirty tree and UNISONCTL_VERSION")
    func versionFromGit() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let repo = dir.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.script("version.sh"), toPath: repo.appendingPathComponent("scripts/version.sh").path)
        var env = ProcessInfo.processInfo.environment
        env["UNISONCTL_VERSION"] = nil
        env["GIT_AUTHOR_NAME"] = "t"; env["GIT_AUTHOR_EMAIL"] = "t@example.invalid"
        env["GIT_COMMITTER_NAME"] = "t"; env["GIT_COMMITTER_EMAIL"] = "t@example.invalid"
        func sh(_ command: String) throws -> String {
            let r = try Self.run(["-c", "cd '\(repo.path)' && " + command], environment: env)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try sh("scripts/version.sh") == "0.0.0-dev", "outside git")
        _ = try sh("git init -q . && git add -A && git commit -qm one")
        let sha = try sh("git rev-parse --short=12 HEAD")
        #expect(try sh("scripts/version.sh") == "0.0.0-dev+g\(sha)", "a clean clone without tags")
        _ = try sh("git tag v1.4.0")
        #expect(try sh("scripts/version.sh") == "1.4.0")
        _ = try sh("echo x > f && git add f && git commit -qm two")
        let sha2 = try sh("git rev-parse --short=12 HEAD")
        #expect(try sh("scripts/version.sh") == "1.4.0+1.g\(sha2)")
        _ = try sh("echo y >> f")
        #expect(try sh("scripts/version.sh") == "1.4.0+1.g\(sha2).dirty")
        #expect(try sh("UNISONCTL_VERSION=v2.0.0-beta.1 scripts/version.sh") == "2.0.0-beta.1")
        let bad = try Self.run(["-c", "cd '\(repo.path)' && UNISONCTL_VERSION='1.0;x' scripts/version.sh"], environment: env)
        #expect(bad.status == 2)
    }
}
