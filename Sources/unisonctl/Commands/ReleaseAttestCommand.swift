import ArgumentParser
import FoundationEssentials
import UnisonAttest
import UnisonCore
import UnisonOCI
import UnisonRelease
import UnisonSpec

extension ReleaseCommand {
    struct Attest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attest",
            abstract:
                "Write the provenance, allowed signers and SHA256SUMS-<v>.txt of a release directory, and SSH-sign them with the SBOMs and manifest.",
            discussion: """
                The key is an unencrypted OpenSSH Ed25519 private key: --key FILE, else the key text in \
                $UNISONCTL_SIGNING_KEY. With --ephemeral-key and neither, a key is generated for this run \
                and thrown away after signing (the signatures then prove integrity, not origin). The key \
                is never printed. When the spec lists release.signingKeys, a given key must be one of them.
                """)

        @Argument(help: ArgumentHelp("Release directory (default: the spec's release.artifacts).", valueName: "dir"))
        var directory: String?
        @Option(help: ArgumentHelp("Platform version, e.g. v0.5.0, or a nightly's name (default: platform.version).", valueName: "version"))
        var version: String?
        @Option(help: ArgumentHelp("OpenSSH Ed25519 private key file (unencrypted).", valueName: "file"))
        var key: String?
        @Flag(name: .customLong("ephemeral-key"), help: "Without --key or $UNISONCTL_SIGNING_KEY, sign with a key generated for this run.")
        var ephemeralKey = false
        @Option(help: ArgumentHelp("Source commit (40 hex digits; default: HEAD of --repo when it has one).", valueName: "sha"))
        var commit: String?
        @Option(help: ArgumentHelp("Repository whose HEAD is the source commit.", valueName: "path"))
        var repo: String = "."
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func validate() throws {
            if let commit, !(commit.count == 40 && commit.allSatisfy(\.isHexDigit)) {
                throw ValidationError("--commit must be 40 hex digits, got '\(commit)'")
            }
        }

        func run() async throws {
            let (specURL, spec) = try specOptions.loadWithURL()
            let env = ProcessInfo.processInfo.environment
            guard let source = SigningKeySource.choose(file: key, environment: env, allowEphemeral: ephemeralKey) else {
                throw ValidationError("no signing key: pass --key FILE, set \(SigningKeySource.variable), or pass --ephemeral-key")
            }
            let specKeys = try spec.release.signingKeys.map { try SSHPublicKey(line: $0, source: "release.signingKeys") }
            let sha = commit ?? (try? GitRepository(directory: URL(fileURLWithPath: repo)).head()) ?? nil
            var repositoryURI: String?
            if let server = env["GITHUB_SERVER_URL"], let repository = env["GITHUB_REPOSITORY"] { repositoryURI = "\(server)/\(repository)" }
            let report = try ReleaseAttest.run(
                .init(
                    directory: ReleaseOptions.artifactsDirectory(directory, spec: spec, specURL: specURL),
                    version: ReleaseAttest.versionName(version ?? spec.platform.version.description),
                    prefix: spec.platform.name, key: source, specKeys: specKeys,
                    spec: (specURL.lastPathComponent, try SHA256Hex.file(specURL).hex),
                    commit: sha?.lowercased(), repositoryURI: repositoryURI, epoch: SourceDateEpoch.current(env), environment: env))
            for w in report.warnings { FileIO.standardError.write("warning: \(w)\n") }
            if report.ephemeralKey {
                FileIO.standardError.write(
                    "release attest: no signing key given: signed with a key generated for this run (\(report.key)); its private half is discarded, so the signatures show the files are unchanged since this build, not who built them\n"
                )
            }
            if output.json { try Output.json(report); return }
            Output.line("\(report.directory): \(report.subjects) artifacts attested; signed by \(report.key) (\(report.keySource))")
            for name in [report.allowedSigners, report.provenance, report.checksums] + report.signatures { Output.line("  \(name)") }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify a release directory offline: signatures, checksums, SBOMs and provenance against the files, nothing unlisted.",
            discussion: """
                Trusted keys come from --key (an allowed_signers or .pub file: use the spec's \
                release.signingKeys or a key you got out of band); without it, from the release's own \
                *-allowed-signers-*.txt, which proves only that the files match one another. A registry \
                reference (REPO@sha256:… or REPO:TAG) is read as a subject whose referrers (release attach) \
                are pulled into a temporary directory with the artifact files and verified the same way. \
                Exit 0 when everything holds, 1 naming each failure.
                """)

        @Argument(help: ArgumentHelp("Release directory, or a registry reference whose referrers carry the release.", valueName: "dir|ref"))
        var target: String
        @Option(help: ArgumentHelp("Trusted keys: an allowed_signers file or an ssh-ed25519 .pub file.", valueName: "file"))
        var key: String?
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            var isDir = false
            let report: VerifyReport
            if FileManager.default.fileExists(atPath: target, isDirectory: &isDir), isDir {
                report = try ReleaseVerifier.verify(directory: URL(fileURLWithPath: target), keyFile: key.map { URL(fileURLWithPath: $0) })
            } else {
                guard let ref = try? ImageReference(parsing: target) else {
                    throw ValidationError("'\(target)' is neither a directory nor a registry reference")
                }
                let work = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-verify-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: work) }
                let client = try registry.client(for: ref.registry)
                try await ReleaseReferrers.download(subject: ref, into: work, client: client)
                report = try ReleaseVerifier.verify(directory: work, keyFile: key.map { URL(fileURLWithPath: $0) }, partial: true)
            }
            if output.json {
                try Output.json(report)
            } else {
                for note in report.notes { FileIO.standardError.write("note: \(note)\n") }
                for failure in report.failures { Output.line("FAIL \(failure)") }
                Output.line(
                    report.ok
                        ? "release verify: \(target): all good (\(report.checked.count) checks, keys \(report.fingerprints.joined(separator: ", ")))"
                        : "release verify: \(target): \(report.failures.count) failure\(report.failures.count == 1 ? "" : "s")")
            }
            if !report.ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach",
            abstract: "Push a release's SBOMs, provenance and signatures as referrers (--subject) of an image or artifact in a registry.",
            discussion: """
                Three artifacts, each with the SSH signatures of its files: the SBOM(s) \
                (application/spdx+json), the provenance (application/vnd.in-toto+json) and the signed \
                checksum list with the allowed signers. Listed by `unisonctl oci referrers SUBJECT`; found \
                through the referrers API or the sha256-<hex> tag fallback (GHCR, docker-registry).
                """)

        @Argument(help: ArgumentHelp("Release directory (after release attest).", valueName: "dir"))
        var directory: String
        @Option(help: ArgumentHelp("The image or artifact they describe: REPO@sha256:… or REPO:TAG.", valueName: "ref"))
        var subject: String
        @Option(help: ArgumentHelp("Attach only this artifact's SBOM (default: every SBOM).", valueName: "name"))
        var artifact: String?
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let ref = try ImageReference(parsing: subject)
            let report = try await ReleaseReferrers.attach(
                directory: URL(fileURLWithPath: directory), artifact: artifact, subject: ref,
                client: try registry.client(for: ref.registry))
            if output.json { try Output.json(report); return }
            for a in report.attached { Output.line("\(a.reference) \(a.artifactType)  \(a.files.map(\.title).joined(separator: ", "))") }
        }
    }
}
