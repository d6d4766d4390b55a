import Foundation
import UnisonArchive
import UnisonAttest
import UnisonCore

/// Runs the built `unisonctl`.
package enum AttestCLI {
    package static let repoRoot = Unisonctl.repoRoot

    package static var binary: String { Unisonctl.binary.path }

    package static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        var env = environment
        env["HOME"] = env["HOME"] ?? FileManager.default.temporaryDirectory.path
        env["DOCKER_CONFIG"] = env["DOCKER_CONFIG"] ?? "/nonexistent"
        env["UNISONCTL_SIGNING_KEY"] = env["UNISONCTL_SIGNING_KEY"] ?? ""
        return try TestProcess.runStatus([binary] + arguments, environment: env)
    }
}

/// A small image root: a dpkg status with three packages (one of them from another source
/// package, one not installed), DEP-5 and free-form copyright files, an Ollama model store
/// and unisonctl.
package enum SampleRoot {
    package static let status = """
        Package: base-files
        Status: install ok installed
        Priority: required
        Architecture: amd64
        Version: 13.8
        Description: Debian base system miscellaneous files

        Package: libstdc++6
        Status: install ok installed
        Architecture: amd64
        Source: gcc-14 (14.2.0-19)
        Version: 14.2.0-19
        Description: GNU Standard C++ Library v3
         with a continuation line

        Package: perl-base
        Status: install ok installed
        Architecture: amd64
        Source: perl
        Version: 5.40.1-6
        Description: minimal Perl system

        Package: gone
        Status: deinstall ok config-files
        Architecture: all
        Version: 1.0

        """

    package static func tree() throws -> FileTree {
        var tree = FileTree()
        try tree.addFile("var/lib/dpkg/status", status)
        try tree.addFile("usr/share/doc/base-files/copyright", "This is Debian's prepackaged version of the FSF's GNU hello program.\n")
        try tree.addFile(
            "usr/share/doc/libstdc++6/copyright",
            """
            Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
            Upstream-Name: gcc

            Files: *
            Copyright: Free Software Foundation
            License: GPL-3+ with GCC-exception-3.1

            Files: libiberty/*
            License: LGPL-2.1+

            """)
        try tree.addFile(
            "usr/share/doc/perl-base/copyright",
            """
            Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

            Files: *
            Copyright: Larry Wall
            License: GPL-1+ or Artistic

            """)
        try tree.addFile("var/lib/unison/models/manifests/registry.ollama.ai/library/qwen2.5/1.5b", #"{"schemaVersion":2}"#)
        try tree.addFile("usr/local/bin/unisonctl", Data("#!/bin/sh\necho unisonctl\n".utf8), mode: 0o755)
        return tree
    }
}

/// The release directory the attest tests and the release CLI tests sign and verify.
package enum SampleRelease {
    /// A release directory: two image artifacts with SBOMs, a manifest, an ISO-style .sha256;
    /// attested with `key`.
    package static func make(_ tmp: TempDir, key: SSHSigningKey, specKeys: [SSHPublicKey] = []) throws -> (URL, AttestReport) {
        let dir = tmp.path("out")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let inv = try RootInventory.scan(try SampleRoot.tree(), modelStores: ["/var/lib/unison/models"])
        for (name, body) in [("unisonos-wsl2-1.0.0.tar.gz", "wsl"), ("unisonos-linux-vm-1.0.0.qcow2", "qcow2")] {
            let url = dir.appendingPathComponent(name)
            try Data(String(repeating: body, count: 1000).utf8).write(to: url)
            try SBOM.write(inv, artifact: url, version: "1.0.0", base: ("base.tar.zst", String(repeating: "cd", count: 32)), epoch: 1_704_067_200)
        }
        try Data(#"{"version":"v1.0.0"}"#.utf8).write(to: dir.appendingPathComponent("unisonos-manifest-v1.0.0.json"))
        let keyFile = tmp.path("release-key")
        try Data(key.openSSHText().utf8).write(to: keyFile)
        let report = try ReleaseAttest.run(
            .init(
                directory: dir, version: "v1.0.0", key: .file(keyFile), specKeys: specKeys,
                spec: ("unison.yaml", String(repeating: "ef", count: 32)), commit: String(repeating: "a", count: 40),
                repositoryURI: "https://github.com/project-unisonOS/unison-platform", epoch: 1_704_067_200, environment: [:]))
        return (dir, report)
    }
}
