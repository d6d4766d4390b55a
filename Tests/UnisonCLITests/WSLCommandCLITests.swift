import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// `unisonctl image build wsl` as users and the acceptance checks run it, on the real Debian
/// base (built once by scripts/build-base.sh into the cache) and on a synthetic one.
@Suite("unisonctl image build wsl", .serialized, .tags(.interop))
struct WSLCommandCLITests {
    @Test("the default base: two runs with one SOURCE_DATE_EPOCH give identical, valid artifacts")
    func debianReproducible() throws {
        _ = try ImageRepo.debianBase()
        let scratch = try ImageScratch("wsl-debian")
        defer { scratch.cleanup() }
        let epoch: Int64 = 1_700_000_000
        var digests: [String] = []
        for run in ["a", "b"] {
            let out = scratch.path(run)
            let r = try Repo.cli(
                [
                    "image", "build", "wsl", "--spec", Repo.spec.path, "--out", out.path, "--version", "9.9.9",
                    "--unisonctl-binary", Repo.unisonctl.path, "--json",
                ],
                environment: ["SOURCE_DATE_EPOCH": String(epoch)])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(json?["schema"] as? String == "unisonctl.image-build.wsl/v1")
            let tgz = out.appendingPathComponent("unisonos-wsl2-9.9.9.tar.gz")
            let wsl = out.appendingPathComponent("unisonos-wsl2-9.9.9.wsl")
            #expect(FileManager.default.fileExists(atPath: tgz.path) && FileManager.default.fileExists(atPath: wsl.path))
            digests.append(
                try ImageTool.run(["sha256sum", tgz.path, wsl.path]).stdoutString
                    .split(separator: "\n").map { String($0.prefix(64)) }.joined(separator: " "))
        }
        #expect(digests[0] == digests[1], "two builds differ: \(digests)")
        #expect(Set(digests[0].split(separator: " ")).count == 1, ".tar.gz and .wsl differ")

        let tgz = scratch.path("a/unisonos-wsl2-9.9.9.tar.gz")
        let root = try WSLArtifactCheck(archive: tgz, scratch: scratch.url, epoch: epoch)
            .verify(wslCopy: scratch.path("a/unisonos-wsl2-9.9.9.wsl"))
        // The base keeps the kernel for the VM target; the WSL image does not.
        let baseList = try ImageTool.run(["tar", "-tf", try ImageRepo.debianBase().path]).stdoutString
        #expect(baseList.contains("./boot/vmlinuz-") && baseList.contains("./boot/initrd.img-"))
        #expect(baseList.contains("./usr/lib/systemd/boot/efi/systemd-bootx64.efi"))
        // The image works: a shell runs in it, and the first-run script creates the default
        // user with uid 1000 in the sudo group (no terminal: password left locked).
        let hello = try ImageTool.run(["chroot", root.path, "/bin/sh", "-c", "echo hello from $(cat /etc/debian_version | cut -c1-2)"])
        #expect(hello.stdoutString.hasPrefix("hello from 13"), "the default base is trixie (Debian 13)")
        try ImageTool.run(["chroot", root.path, "/usr/lib/wsl/oobe.sh"])
        let id = try ImageTool.run(["chroot", root.path, "id", "unison"]).stdoutString
        #expect(id.hasPrefix("uid=1000(unison)") && id.contains("(sudo)"), "\(id)")
        // Run again, it finds the user and succeeds without change (WSL reruns it on failure).
        let again = try ImageTool.run(["chroot", root.path, "/usr/lib/wsl/oobe.sh"]).stdoutString
        #expect(again.contains("already has uid 1000"))
        // The name taken with another uid: it explains and exits 0 rather than lock WSL out.
        try ImageTool.run(["chroot", root.path, "userdel", "-r", "unison"])
        try ImageTool.run(["chroot", root.path, "useradd", "-u", "1234", "unison"])
        let taken = try ImageTool.run(["chroot", root.path, "/usr/lib/wsl/oobe.sh"]).stdoutString
        #expect(taken.contains("exists with another uid"), "\(taken)")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("usr/local/bin/unisonctl").path))
    }

    @Test("without --version the spec's platform version names the files; --base takes a directory")
    func specDefaults() throws {
        let scratch = try ImageScratch("wsl-cli")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        let out = scratch.path("dist")
        let r = try Repo.cli([
            "image", "build", "wsl", "--spec", Repo.spec.path, "--base", base.path, "--out", out.path,
            "--unisonctl-binary", "/bin/true",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let version = try String(contentsOf: Repo.spec, encoding: .utf8).split(separator: "\n")
            .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("version:") }!
            .split(separator: ":")[1].split(separator: "#")[0].trimmingCharacters(in: .whitespaces)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(
            names == [
                "unisonos-wsl2-\(version).tar.gz", "unisonos-wsl2-\(version).tar.gz.spdx.json",
                "unisonos-wsl2-\(version).wsl", "unisonos-wsl2-\(version).wsl.spdx.json",
            ])
        #expect(r.stdout.contains("sha256:"))
        // The SBOM read from the built root is valid SPDX 2.3 for the reference tool.
        let sbom = out.appendingPathComponent("unisonos-wsl2-\(version).tar.gz.spdx.json")
        let spdx = try ImageTool.status(["pyspdxtools", "-i", sbom.path])
        #expect(spdx.status == 0, "\(spdx.stdoutString) \(spdx.stderrString)")
        #expect(try String(contentsOf: sbom, encoding: .utf8).contains("\"name\" : \"unisonctl\""))
        // The release step of scripts/build.sh over what the build wrote, then its verification.
        let attest = try Repo.cli(
            ["release", "attest", out.path, "--spec", Repo.spec.path, "--version", version, "--ephemeral-key"],
            environment: ["UNISONCTL_SIGNING_KEY": ""])
        #expect(attest.status == 0, "\(attest.stderr)")
        #expect(attest.stderr.contains("key generated for this run"))
        let verify = try Repo.cli(["release", "verify", out.path])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test(
        "bad input exits 2 with one clear sentence and writes nothing",
        arguments: [
            (["--base", "/nonexistent/base.tar"], "/nonexistent/base.tar"),
            (["--base", "oci:/nonexistent/layout"], "oci:/nonexistent/layout"),
            (["--version", "1/2"], "version '1/2'"),
            (["--level", "12"], "--level must be between 1 and 9"),
        ])
    func badInput(_ args: [String], _ mentions: String) throws {
        let scratch = try ImageScratch("wsl-bad")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        let out = scratch.path("dist")
        var arguments = ["image", "build", "wsl", "--spec", Repo.spec.path, "--out", out.path, "--unisonctl-binary", "/bin/true"]
        if !args.contains("--base") { arguments += ["--base", base.path] }
        let r = try Repo.cli(arguments + args)
        #expect(r.status == 2, "status \(r.status): \(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty)
    }

    @Test("a spec base that was never built names the script that builds it")
    func missingBase() throws {
        let scratch = try ImageScratch("wsl-nobase")
        defer { scratch.cleanup() }
        let r = try Repo.cli(
            [
                "image", "build", "wsl", "--spec", Repo.spec.path, "--out", scratch.path("dist").path,
                "--unisonctl-binary", "/bin/true",
            ],
            environment: ["UNISONCTL_CACHE_DIR": scratch.path("empty-cache").path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("scripts/build-base.sh debian-trixie"), "\(r.stderr)")
        #expect(r.stderr.contains(scratch.path("empty-cache/bases/debian-trixie.tar").path))
    }

    @Test("image tar packs a directory deterministically, readable by GNU tar and pigz")
    func imageTar() throws {
        let scratch = try ImageScratch("img-tar")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        for name in ["a.tar.gz", "b.tar.gz", "c.tar.zst", "d.tar"] {
            let r = try Repo.cli(["image", "tar", base.path, "--out", scratch.path(name).path])
            #expect(r.status == 0, "\(r.stderr)")
        }
        try ImageTool.run(["cmp", scratch.path("a.tar.gz").path, scratch.path("b.tar.gz").path])
        try ImageTool.run(["pigz", "-t", scratch.path("a.tar.gz").path])
        try ImageTool.run(["zstd", "-q", "-t", scratch.path("c.tar.zst").path])
        let listed = try ImageTool.run(["tar", "-tf", scratch.path("d.tar").path]).stdoutString
        #expect(listed.contains("etc/passwd\n") && listed.contains("var/lib/dpkg/status\n"))
    }
}
