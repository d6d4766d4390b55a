import Foundation
import UnisonArchive
import UnisonTestSupport

@testable import UnisonAttest

/// Runs the built `unisonctl`.
enum AttestCLI {
    static let repoRoot = Unisonctl.repoRoot

    static var binary: String { Unisonctl.binary.path }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
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
enum SampleRoot {
    static let status = """
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

    static func tree() throws -> FileTree {
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

enum SSHKeygen {
    /// `ssh-keygen -Y verify` of `file` with its `.sig` against an allowed_signers file.
    static func verify(file: URL, signature: URL, allowedSigners: URL, principal: String = AllowedSigners.principal)
        throws -> (status: Int32, stdout: String, stderr: String)
    {
        try TestProcess.runStatus([
            "sh", "-c", "ssh-keygen -Y verify -f \"$1\" -I \"$2\" -n file -s \"$3\" < \"$4\"", "sh",
            allowedSigners.path, principal, signature.path, file.path,
        ])
    }
}
