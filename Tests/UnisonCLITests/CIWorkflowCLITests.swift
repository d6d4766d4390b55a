import Foundation
import Testing
import UnisonTestSupport

/// Generated workflows are read back by actionlint and zizmor, neither of them ours.
@Suite(.tags(.interop)) struct CIWorkflowCLITests {
    static let services = ["orchestrator", "auth", "io-speech", "updates"]
    static let pin = "0123456789abcdef0123456789abcdef01234567"

    /// The service repo's workflow: a caller of the platform's reusable build, with no spec.
    @Test(arguments: services)
    func serviceWorkflowPassesActionlintAndZizmor(service: String) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(".github/workflows/publish.yml")
        let r = try CLI.run([
            "ci", "workflow", "--service", service, "--platform-ref", Self.pin, "--platform-ref-comment", "v0.5.0-alpha.1",
            "--output", file.path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("uses: project-unisonos/unison-platform/.github/workflows/unisonctl-build.yml@\(Self.pin) # v0.5.0-alpha.1"))
        #expect(text.contains("image_name: unison-\(service)"))
        #expect(text.contains("\"main\", \"master\", \"release/*\""))
        #expect(!text.contains("unison.yaml\n") && !text.contains("--spec"), "the service repo needs no spec")
        try lintClean(file, in: dir)
    }

    @Test func anUnpinnedCallIsWarnedAbout() throws {
        let r = try CLI.run(["ci", "workflow", "--service", "auth"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("unisonctl-build.yml@main"))
        #expect(r.stderr.contains("not a commit SHA"))
        #expect(try CLI.run(["ci", "workflow", "--service", "auth", "--platform-ref", "main; rm -rf /"]).status == 2)
    }

    @Test func reusableBuildPassesActionlintAndZizmor() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(".github/workflows/unisonctl-build.yml")
        let r = try CLI.run(["ci", "workflow", "--reusable", "--platform-version", "v0.5.0-alpha.1", "--output", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("workflow_call:"))
        for input in ["image_name:", "domain:", "service_port:", "dockerfile:", "context:", "default: \"v0.5.0-alpha.1\""] {
            #expect(text.contains(input), "\(input)")
        }
        #expect(text.contains("releases/download/${{ inputs.platform_version }}"))
        #expect(text.contains("for f in unisonctl-linux-amd64 unison.yaml \"$sums\""))
        #expect(text.contains("sha256sum -c --strict wanted.txt"))
        #expect(text.contains("--run-number \"$GITHUB_RUN_NUMBER\" --run-attempt \"$GITHUB_RUN_ATTEMPT\""))
        #expect(text.contains("platforms: linux/amd64,linux/arm64"))
        #expect(text.contains("sbom: true") && text.contains("provenance: mode=max"))
        #expect(text.contains("actions/attest-build-provenance@"))
        for arg in ["SERVICE_NAME=", "SERVICE_PORT=", "VERSION=${{ steps.meta.outputs.version }}"] { #expect(text.contains(arg)) }
        #expect(text.contains("--label \"unison.domain=$DOMAIN\" --label \"unison.service=$IMAGE_NAME\""))
        #expect(text.contains("aquasecurity/trivy-action@"))
        #expect(!text.contains("run: ${{"), "no expression is expanded inside a script")
        try lintClean(file, in: dir)
    }

    @Test func platformReleaseWorkflowPassesActionlintAndZizmor() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(".github/workflows/release.yml")
        let r = try CLI.run(["ci", "workflow", "--platform", "--toolchain-ref", "v1.0.0", "--output", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: file, encoding: .utf8)
        // Every channel's tag pattern triggers it; nothing of this repository's scripts is called.
        #expect(text.contains("tags: [\"v*.*.*-alpha.*\", \"v*.*.*-beta.*\", \"v*.*.*\"]"))
        #expect(!text.contains("scripts/build.sh") && !text.contains("scripts/check-artifacts.sh") && !text.contains("sudo scripts/setup.sh"))
        #expect(text.contains("make image-wsl image-vm image-iso"))
        #expect(text.contains("runner: ubuntu-24.04-arm"))
        // The builder names the ISO as the release strategy does: nothing to rename.
        #expect(text.contains("unisonctl release split-iso \"$OUT/unisonos-baremetal-$VERSION.iso\""))
        #expect(!text.contains("linux-installer") && !text.contains("mv \"$OUT/"))
        #expect(text.contains("--matrix unison-docs/dev/compatibility-matrix.md --resolve-digests"))
        #expect(text.contains("draft) flags=(--draft --prerelease)"))
        #expect(text.contains("if: steps.channel.outputs.prerelease == 'false'"))
        #expect(text.contains("unisonctl release targets"))
        #expect(!text.contains("run: ${{"), "no expression is expanded inside a script")
        // Each target is an OCI artifact in GHCR, attestations attached, signed keylessly and
        // verified against the workflow's own identity; only this job may mint an OIDC token.
        #expect(text.contains("uses: sigstore/cosign-installer@dc72c7d5c4d10cd6bcb8cf6e3fd625a9e5e537da # v3.7.0"))
        #expect(text.contains("REPOSITORY_PREFIX: ghcr.io/project-unisonos/unisonos"))
        #expect(text.contains("unisonctl oci push-artifact \"$repo:$VERSION\""))
        #expect(text.contains("unisonctl release attach \"$OUT\" --subject \"$repo@$digest\""))
        #expect(text.contains("cosign sign --yes \"$repo@$digest\""))
        #expect(text.contains("--certificate-oidc-issuer https://token.actions.githubusercontent.com"))
        #expect(text.components(separatedBy: "id-token: write").count == 2, "one job asks for an OIDC token")
        #expect(text.contains("permissions: {}"))
        try lintClean(file, in: dir)
    }

    @Test func oneKindAtATime() throws {
        #expect(try CLI.run(["ci", "workflow"]).status == 2)
        let both = try CLI.run(["ci", "workflow", "--platform", "--service", "auth"])
        #expect(both.status == 2)
        #expect(both.stderr.contains("one of --service NAME, --reusable or --platform"))
        #expect(try CLI.run(["ci", "workflow", "--platform", "--reusable"]).status == 2)
    }

    @Test func unknownServiceIsBadInput() throws {
        let r = try CLI.run(["ci", "workflow", "--service", "no-such-service"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown service 'no-such-service'"))
    }

    private func lintClean(_ file: URL, in dir: URL) throws {
        let lint = try TestProcess.runMerged(["actionlint", "-no-color", file.path], cwd: dir)
        #expect(lint.status == 0, "actionlint: \(lint.output)")
        let audit = try TestProcess.runMerged(["zizmor", "--offline", "--no-progress", file.path], cwd: dir)
        #expect(audit.status == 0, "zizmor: \(audit.output)")
    }
}
