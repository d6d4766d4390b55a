import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonImage

/// The WSL target on a small synthetic base: every requirement, reproducibility, atomic output.
@Suite("WSL image (synthetic base)", .tags(.interop))
struct WSLImageTests {
    static let epoch: Int64 = 1_700_000_000
    static let distribution = WSLDistribution(defaultName: "UnisonOS", defaultUser: "unison")

    static let overlay = ClosureOverlay { tree in
        try tree.addFile("usr/local/bin/unisonctl", "#!/bin/sh\necho unisonctl\n", mode: 0o755, mtime: 4_000_000_000)
        try tree.addFile("etc/unison/platform.env", "UNISON_LOG_LEVEL=info\n", mode: 0o600)
    }

    func build(base: BaseSource, out: URL, epoch: Int64 = Self.epoch, overlay: any RootfsOverlay) async throws -> WSLBuildResult {
        let request = ImageBuildRequest(
            base: base, outputDirectory: out, version: "1.2.3-test", epoch: epoch,
            cacheDir: out.appendingPathComponent("no-cache"), threads: 2, overlay: overlay)
        return try await ImagePipeline.build(request, target: WSLImage(distribution: Self.distribution))
    }

    @Test("the artifact meets every requirement, read back by gzip, tar, systemctl, dpkg, shellcheck, file")
    func requirements() async throws {
        let scratch = try ImageScratch("wsl")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        let out = scratch.path("out")
        let result = try await build(base: .directory(base), out: out, overlay: Self.overlay)
        #expect(result.artifacts.map(\.name) == ["unisonos-wsl2-1.2.3-test.tar.gz", "unisonos-wsl2-1.2.3-test.wsl"])
        #expect(result.changes.removedPackages == ["linux-image-6.1.0-test-amd64", "linux-image-amd64"])
        let tgz = out.appendingPathComponent("unisonos-wsl2-1.2.3-test.tar.gz")
        let root = try WSLArtifactCheck(archive: tgz, scratch: scratch.url, epoch: Self.epoch)
            .verify(wslCopy: out.appendingPathComponent("unisonos-wsl2-1.2.3-test.wsl"))

        // What the synthetic base had that must be gone or changed.
        let fm = FileManager.default
        for gone in [
            "boot/vmlinuz-6.1.0-test-amd64", "boot/initrd.img-6.1.0-test-amd64", "boot/System.map-6.1.0-test-amd64",
            "vmlinuz", "initrd.img", "usr/lib/modules/6.1.0-test-amd64", "usr/share/doc/linux-image-6.1.0-test-amd64",
            "var/lib/dpkg/info/linux-image-6.1.0-test-amd64.list", "var/lib/dpkg/info/linux-image-6.1.0-test-amd64.postinst",
        ] {
            #expect(!fm.fileExists(atPath: root.appendingPathComponent(gone).path), "\(gone) should be gone")
        }
        // Merged /usr and unrelated files survive; the boot and modules directories stay, empty.
        #expect(try fm.destinationOfSymbolicLink(atPath: root.appendingPathComponent("lib").path) == "usr/lib")
        #expect(fm.fileExists(atPath: root.appendingPathComponent("usr/share/doc/base-files/copyright").path))
        #expect(try fm.contentsOfDirectory(atPath: root.appendingPathComponent("usr/lib/modules").path).isEmpty)
        #expect(try String(contentsOf: root.appendingPathComponent("etc/machine-id"), encoding: .utf8).isEmpty)
        // User units the base has are masked for users too.
        #expect(
            try fm.destinationOfSymbolicLink(atPath: root.appendingPathComponent("etc/systemd/user/systemd-tmpfiles-clean.timer").path) == "/dev/null"
        )
        // The overlay is in, its future timestamp clamped; the hard link is still one inode.
        let tool = try fm.attributesOfItem(atPath: root.appendingPathComponent("usr/local/bin/unisonctl").path)
        #expect((tool[.modificationDate] as? Date)?.timeIntervalSince1970 == Double(Self.epoch))
        var a = stat(), b = stat()
        #expect(lstat(root.appendingPathComponent("usr/bin/tool").path, &a) == 0)
        #expect(lstat(root.appendingPathComponent("usr/bin/tool-alias").path, &b) == 0)
        #expect(a.st_ino != 0 && a.st_ino == b.st_ino && a.st_nlink >= 2, "one inode, two names")
        // Ownership recorded in the base survives (shadow is root:shadow 0640 in Debian).
        let shadow = try fm.attributesOfItem(atPath: root.appendingPathComponent("etc/shadow").path)
        #expect(shadow[.groupOwnerAccountID] as? UInt == 42 && (shadow[.posixPermissions] as? Int) == 0o640)
        // The shadow lines keep their other fields.
        let shadowText = try String(contentsOf: root.appendingPathComponent("etc/shadow"), encoding: .utf8)
        #expect(shadowText.hasPrefix("root:*:19000:0:99999:7:::\n"))
        #expect(shadowText.contains("\nopen:*:19000::::::"))
        #expect(try String(contentsOf: root.appendingPathComponent("etc/passwd"), encoding: .utf8).contains("legacy:x:1001"))
    }

    @Test("two builds with the same SOURCE_DATE_EPOCH are identical; another epoch changes the bytes")
    func reproducible() async throws {
        let scratch = try ImageScratch("wsl-repro")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        // The same base also as a gzip tarball made by GNU tar: the source kind must not matter.
        let tarball = scratch.path("base.tar.gz")
        try ImageTool.run(["tar", "--numeric-owner", "-C", base.path, "-czf", tarball.path, "."])
        var digests: [String] = []
        for (i, source) in [BaseSource.directory(base), .tarball(tarball), .directory(base)].enumerated() {
            let r = try await build(base: source, out: scratch.path("out\(i)"), overlay: Self.overlay)
            digests.append(r.artifacts[0].sha256)
            #expect(r.artifacts[1].sha256 == r.artifacts[0].sha256)
        }
        #expect(Set(digests).count == 1, "\(digests)")
        let later = try await build(
            base: .directory(base), out: scratch.path("later"), epoch: Self.epoch + 86_400,
            overlay: Self.overlay)
        #expect(later.artifacts[0].sha256 != digests[0])
    }

    @Test("a failing build leaves no artifact and no temporary file behind")
    func atomicOnFailure() async throws {
        let scratch = try ImageScratch("wsl-fail")
        defer { scratch.cleanup() }
        let base = try SyntheticBase.directory(in: scratch)
        let out = scratch.path("out")
        // An overlay that breaks the image after the base loaded: no root account.
        let broken = ClosureOverlay { tree in tree.remove("etc/passwd") }
        await #expect(throws: WSLError.self) { try await build(base: .directory(base), out: out, overlay: broken) }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty)
        // A hostile base tarball is refused by member name before anything is written.
        let hostile = scratch.path("hostile.tar")
        try ImageTool.shell("cd '\(scratch.url.path)' && mkdir -p h && ln -s ../../../etc h/up && tar -C h -cf hostile.tar up")
        await #expect { try await build(base: .tarball(hostile), out: out, overlay: Self.overlay) } throws: { error in
            (error as? TarError)?.member == "up"
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty)
    }

    @Test(
        "the requirement check names what is wrong",
        arguments: [
            ("etc/resolv.conf", "/etc/resolv.conf is present"),
            ("boot/vmlinuz-9", "/boot/vmlinuz-9 is a kernel or initramfs"),
            ("etc/systemd/system/tmp.mount", "tmp.mount is not masked"),
            ("etc/wsl.conf", "/etc/wsl.conf lacks 'systemd=true' in [boot]"),
            ("etc/wsl.conf#other-section", "/etc/wsl.conf lacks 'systemd=true' in [boot]"),
            ("etc/shadow", "/etc/shadow holds a password hash for 'root'"),
        ])
    func problems(_ path: String, _ message: String) throws {
        var tree = try SyntheticBase.tree()
        try WSLRootfs.prepare(&tree, distribution: Self.distribution, mtime: Self.epoch)
        #expect(WSLRootfs.problems(in: tree, distribution: Self.distribution).isEmpty)
        switch path {
        case "etc/systemd/system/tmp.mount": tree.remove(path)
        case "etc/wsl.conf": try tree.addFile(path, "[boot]\nsystemd=false\n")
        // The right line under the wrong section.
        case "etc/wsl.conf#other-section": try tree.addFile("etc/wsl.conf", "[boot]\ncommand=/bin/true\n[network]\nsystemd=true\n")
        case "etc/shadow": try tree.addFile(path, "root:$6$x$y:1::::::\n", mode: 0o640)
        default: try tree.addFile(path, "x")
        }
        #expect(WSLRootfs.problems(in: tree, distribution: Self.distribution).contains(message))
    }

    @Test(
        "distribution settings are validated",
        arguments: [
            ("Unison OS", "unison"), ("UnisonOS", "Unison"), ("UnisonOS", "root"), ("UnisonOS", "1abc"), ("", "unison"),
        ])
    func badDistribution(_ name: String, _ user: String) {
        #expect(throws: WSLError.self) { try WSLDistribution(defaultName: name, defaultUser: user).validate() }
    }
}

@Suite("WSL configuration files", .tags(.unit))
struct WSLConfTests {
    static let d = WSLDistribution(defaultName: "UnisonOS", defaultUser: "unison")

    @Test(
        "an existing wsl.conf keeps its lines; [boot] systemd is set to true",
        arguments: [
            (nil, "[boot]\nsystemd=true\n"),
            ("[boot]\ncommand=/usr/local/sbin/unison-wsl-boot\n", "[boot]\ncommand=/usr/local/sbin/unison-wsl-boot\nsystemd=true\n"),
            ("[boot]\nsystemd = false\ncommand=x\n[network]\nhostname=a\n", "[boot]\nsystemd=true\ncommand=x\n[network]\nhostname=a\n"),
            ("[network]\ngenerateResolvConf=true", "[network]\ngenerateResolvConf=true\n\n[boot]\nsystemd=true\n"),
            ("[boot]\n[user]\ndefault=unison\n", "[boot]\nsystemd=true\n[user]\ndefault=unison\n"),
        ] as [(String?, String)])
    func merge(_ existing: String?, _ expected: String) {
        let merged = Self.d.wslConf(merging: existing)
        if existing == nil {
            #expect(merged.contains(expected))
        } else {
            #expect(merged == expected)
        }
    }

    @Test("the overlay's wsl.conf survives the WSL changes, root-owned 0644")
    func overlayConfKept() throws {
        var tree = try SyntheticBase.tree()
        try tree.addFile("etc/wsl.conf", "[boot]\ncommand=/usr/local/sbin/unison-wsl-boot\n", mode: 0o600, uid: 5)
        try WSLRootfs.prepare(&tree, distribution: Self.d, mtime: 1)
        let e = try #require(tree["etc/wsl.conf"])
        #expect(e.mode == 0o644 && e.uid == 0 && e.gid == 0)
        guard case let .regular(c) = e.kind else { Issue.record("not a file"); return }
        #expect(String(decoding: try c.data(), as: UTF8.self) == "[boot]\ncommand=/usr/local/sbin/unison-wsl-boot\nsystemd=true\n")
    }
}
