import Foundation
import Testing
import UnisonArchive
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

@Suite("InstallPlan", .tags(.unit))
struct InstallPlanTests {
    @Test("the plan lists the bundle, env, units, enablement and the binary, in a stable order")
    func planContents() throws {
        let dir = try Fixture.tempDir("plan")
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = try Fixture.fakeBinary(in: dir)
        let plan = try InstallPlan.make(spec: try Fixture.spec(), options: InstallOptions(mode: .native, unisonctlBinary: binary))
        let paths = plan.operations.map(\.path)
        for expected in [
            "/opt/unison-platform/compose.yaml", "/opt/unison-platform/platform.env.template",
            "/etc/unison/platform.env", "/etc/systemd/system/unison-platform.service",
            "/etc/systemd/system/unison-firstboot.service",
            "/etc/systemd/system/multi-user.target.wants/unison-platform.service",
            "/etc/systemd/system/multi-user.target.wants/unison-firstboot.service",
            "/usr/local/bin/unisonctl", "/var/lib/unison", "/var/lib/unison/models", "/var/lib/unison/keys",
            "/var/lib/unison/keys/bootstrap-token", "/var/lib/unison/keys/channel-root",
        ] {
            #expect(paths.contains(expected), "missing \(expected)")
        }
        #expect(!paths.contains("/etc/wsl.conf"))
        let again = try InstallPlan.make(spec: try Fixture.spec(), options: InstallOptions(mode: .native, unisonctlBinary: binary))
        #expect(again.operations == plan.operations)
        #expect(plan.description.contains("seed    /etc/unison/platform.env 0600 0:0"))
        #expect(plan.description.contains("mkdir   /var/lib/unison/keys 0700 0:0"))
        #expect(plan.description.contains("secret  /var/lib/unison/keys/bootstrap-token 0400 1000:1000 32 random bytes"))
        #expect(plan.description.contains("binary  /usr/local/bin/unisonctl 0755 0:0 from \(binary.path)"))
    }

    @Test("wsl mode turns systemd on in /etc/wsl.conf and installs the boot command")
    func wslPlan() throws {
        let plan = try InstallPlan.make(spec: try Fixture.spec(), options: InstallOptions(mode: .wsl))
        #expect(plan.operations.contains(.setINIValue(path: "/etc/wsl.conf", section: "boot", key: "systemd", value: "true", mode: 0o644)))
        #expect(
            plan.operations.contains(
                .setINIValue(
                    path: "/etc/wsl.conf", section: "boot", key: "command",
                    value: "/opt/unison-platform/bin/unison-wsl-boot", mode: 0o644)))
    }

    @Test(
        "unknown channels, model packs and missing binaries are refused by name",
        arguments: [
            (InstallOptions(mode: .native, channel: "weekly"), "unknown channel 'weekly'"),
            (InstallOptions(mode: .native, modelPack: "huge"), "unknown model pack 'huge'"),
            (InstallOptions(mode: .native, unisonctlBinary: URL(fileURLWithPath: "/nonexistent/unisonctl")), "/nonexistent/unisonctl"),
        ])
    func badOptions(options: InstallOptions, message: String) throws {
        do {
            _ = try InstallPlan.make(spec: try Fixture.spec(), options: options)
            Issue.record("expected an error")
        } catch let error as InstallError {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.exitStatus == .badInput)
        }
    }

    @Test("an image tree gets every file with its mode, root ownership, the epoch mtime and placeholder secrets")
    func imageTree() throws {
        let dir = try Fixture.tempDir("tree")
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = try Fixture.fakeBinary(in: dir)
        let plan = try InstallPlan.make(
            spec: try Fixture.spec(),
            options: InstallOptions(mode: .image, unisonctlBinary: binary, mtime: 1_700_000_000))
        #expect(plan.secrets == .atFirstBoot)
        var tree = FileTree()
        try tree.addDirectory("etc", mtime: 5)
        try plan.apply(to: &tree)

        let env = try #require(tree["etc/unison/platform.env"])
        #expect(env.mode == 0o600 && env.uid == 0 && env.gid == 0 && env.mtime == 1_700_000_000)
        guard case let .regular(content) = env.kind else { Issue.record("env is not a file"); return }
        let text = String(decoding: try content.data(), as: UTF8.self)
        #expect(text.contains("UNISON_JWT_SECRET=CHANGE_ME"), "an image must not carry generated secrets")
        #expect(tree["etc"]?.mtime == 5, "existing directories keep their metadata")
        #expect(tree["opt/unison-platform/bin/unison-firstboot"]?.mode == 0o755)
        #expect(
            tree["etc/systemd/system/multi-user.target.wants/unison-firstboot.service"]?.kind
                == .symlink(target: "/etc/systemd/system/unison-firstboot.service"))
        guard case let .regular(bin)? = tree["usr/local/bin/unisonctl"]?.kind else { Issue.record("no binary"); return }
        #expect(bin == .file(binary))
        let manifestEntry = try #require(tree["var/lib/unison/install-manifest.json"])
        guard case let .regular(m) = manifestEntry.kind else { Issue.record("the install manifest is not a file: \(manifestEntry.kind)"); return }
        let manifest = try JSONDecoder().decode(InstallManifest.self, from: try m.data())
        #expect(manifest.entries.contains { $0.path == "/etc/unison/platform.env" && $0.role == .config && $0.mode == "0600" })

        // Applying the same plan again is a no-op on the tree.
        let before = tree.walk()
        try plan.apply(to: &tree)
        #expect(tree.walk() == before)
    }

    @Test("a release manifest pins every platform image by digest; infrastructure keeps its tag")
    func digestPinning() throws {
        let dir = try Fixture.tempDir("pins")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try Fixture.spec()
        var services: [[String: String]] = []
        for (i, s) in spec.services.enumerated() {
            services.append(["name": s.name, "image": s.image, "digest": "sha256:" + String(repeating: String(i % 10), count: 64)])
        }
        let json = try JSONSerialization.data(
            withJSONObject: [
                "schema": "unisonos.release-manifest/v1", "version": "v0.6.1",
                "services": services,
            ], options: [.sortedKeys])
        let url = dir.appendingPathComponent("unisonos-manifest-0.6.1.json")
        try json.write(to: url)
        let plan = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .docker, releaseManifest: url))
        #expect(plan.version == SemVer("0.6.1"))
        let orchestrator = try #require(spec.services.firstIndex { $0.name == "orchestrator" })
        #expect(
            plan.images["orchestrator"] == "ghcr.io/project-unisonos/unison-orchestrator:v0.6.1@sha256:"
                + String(repeating: String(orchestrator % 10), count: 64))
        #expect(plan.images["postgres"] == "docker.io/library/postgres:15-alpine")

        // A manifest missing a service, or with a malformed digest, is refused by name.
        let partial = try JSONSerialization.data(withJSONObject: ["version": "0.6.1", "services": Array(services.dropFirst())])
        try partial.write(to: url)
        #expect(throws: InstallError.self) { try InstallPlan.make(spec: spec, options: InstallOptions(mode: .docker, releaseManifest: url)) }
        var bad = services
        bad[orchestrator]["digest"] = "sha256:XYZ"
        try JSONSerialization.data(withJSONObject: ["version": "0.6.1", "services": bad]).write(to: url)
        do {
            _ = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .docker, releaseManifest: url))
            Issue.record("accepted a bad digest")
        } catch let error as InstallError {
            #expect(error.description.contains("orchestrator") && error.description.contains("sha256:XYZ"))
        }
    }

    @Test(
        "tags follow the version, then the channel",
        arguments: [
            (SemVer("1.2.3"), "stable", "v1.2.3"),
            (nil as SemVer?, "nightly", "edge-main"),
            (nil as SemVer?, "stable", "v0.5.0"),
            (SemVer("0.6.0-beta.2"), "beta", "v0.6.0-beta.2"),
        ])
    func tags(version: SemVer?, channel: String, tag: String) throws {
        #expect(ImagePinning.platformTag(spec: try Fixture.spec(), version: version, channel: channel) == tag)
    }

    @Test("a manifest as UnisonRelease writes it: per-service references and infrastructure pins are used as they are")
    func releaseManifestShape() throws {
        let dir = try Fixture.tempDir("relmanifest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try Fixture.spec()
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let services: [[String: Any]] = spec.services.map { s in
            let tag = s.name == "auth" ? "v0.7.2" : "v0.7.0"
            return ["name": s.name, "image": s.image, "tag": tag, "digest": digest, "reference": "\(s.image):\(tag)@\(digest)"]
        }
        let manifest: [String: Any] = [
            "schema": "unisonos.release-manifest/v1", "platform": "unisonos", "version": "0.7.0", "channel": "stable",
            "commit": String(repeating: "1", count: 40), "created": "2024-01-01T00:00:00Z", "services": services,
            "infrastructure": [["name": "postgres", "image": "docker.io/library/postgres:15.8"]],
            "modelPacks": [], "artifacts": [], "requirements": ["os": "linux", "architecture": "amd64", "minRam": "4GB", "minDisk": "10GB"],
        ]
        let url = dir.appendingPathComponent("unisonos-manifest-0.7.0.json")
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: url)
        let plan = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native, releaseManifest: url))
        #expect(plan.version == SemVer("0.7.0"))
        #expect(plan.images["auth"] == "ghcr.io/project-unisonos/unison-auth:v0.7.2@\(digest)")
        #expect(plan.images["policy"] == "ghcr.io/project-unisonos/unison-policy:v0.7.0@\(digest)")
        #expect(plan.images["postgres"] == "docker.io/library/postgres:15.8")
        #expect(plan.images["redis"] == "docker.io/library/redis:7-alpine")

        // Another document is not taken for a manifest.
        var other = manifest
        other["schema"] = "unisonctl.doctor/v1"
        try JSONSerialization.data(withJSONObject: other).write(to: url)
        #expect(throws: InstallError.self) { try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native, releaseManifest: url)) }
    }
}
