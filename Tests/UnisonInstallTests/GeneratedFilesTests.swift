import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

/// The generated compose file, units and shell helpers, each read back by an independent tool:
/// PyYAML, systemd-analyze verify, shellcheck, and the shell itself.
@Suite("Generated files", .tags(.interop))
struct GeneratedFilesTests {
    static let composeCheck = #"""
        import json, sys, yaml
        doc = yaml.safe_load(open(sys.argv[1]))
        out = {"name": doc["name"], "services": {}}
        for name, s in doc["services"].items():
            out["services"][name] = {
                "image": s["image"], "ports": s.get("ports", []), "expose": s.get("expose", []),
                "env_file": s.get("env_file", []), "restart": s["restart"], "profiles": s.get("profiles", []),
                "secrets": s.get("secrets", []), "extra_hosts": s.get("extra_hosts", []),
                "depends_on": s.get("depends_on", {}), "healthcheck": s.get("healthcheck"),
                "environment": s.get("environment", {}), "volumes": s.get("volumes", []), "command": s.get("command"),
                "keys": list(s.keys()),
            }
        out["volumes"] = sorted((doc.get("volumes") or {}).keys())
        out["secrets"] = {k: v["file"] for k, v in (doc.get("secrets") or {}).items()}
        print(json.dumps(out, sort_keys=True))
        """#

    @Test("compose.yaml parses with PyYAML and carries every service, loopback ports, health checks and dependencies")
    func composeFile() throws {
        let dir = try Fixture.tempDir("compose")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try Fixture.spec()
        let plan = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .native, version: SemVer("1.0.0")))
        guard case let .writeFile(_, data, _, _, _)? = plan.operations.first(where: { $0.path == "/opt/unison-platform/compose.yaml" }) else {
            Issue.record("no compose file"); return
        }
        let file = dir.appendingPathComponent("compose.yaml")
        try data.write(to: file)
        let script = dir.appendingPathComponent("check.py")
        try Data(Self.composeCheck.utf8).write(to: script)
        let result = try Fixture.run(["python3", script.path, file.path])
        #expect(result.status == 0, "\(result.stderrString)")
        let doc = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(doc["name"] as? String == "unison")
        let services = try #require(doc["services"] as? [String: [String: Any]])
        #expect(Set(services.keys) == Set(spec.allServices.map(\.name)))
        for s in spec.allServices {
            let c = try #require(services[s.name])
            let keys = try #require(c["keys"] as? [String])
            #expect(keys == keys.sorted(), "\(s.name): keys not sorted")
            let ports = try #require(c["ports"] as? [String])
            if let host = s.hostPort {
                // The image's own port, published on loopback at the spec's host port.
                #expect(ports.first == "127.0.0.1:\(host):\(s.port)")
            } else {
                #expect(ports.isEmpty && c["expose"] as? [String] == [String(s.port)])
            }
            #expect(ports.allSatisfy { $0.hasPrefix("127.0.0.1:") })
            #expect(c["env_file"] as? [String] == (s.kind == .platform ? ["/etc/unison/platform.env"] : []))
            #expect(c["restart"] as? String == "unless-stopped")
            #expect(c["profiles"] as? [String] == s.profiles)
            #expect(c["secrets"] as? [String] == s.secrets)
            #expect(c["extra_hosts"] as? [String] == s.extraHosts)
            guard s.healthCheck else {
                #expect(c["healthcheck"] is NSNull)
                continue
            }
            let test = try #require((c["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(test.first == "CMD-SHELL")
            // A command run inside the container wins over the HTTP path (which the host-side
            // `health` polls): slim images may have neither curl nor wget.
            if let command = s.healthCommand {
                #expect(test.last == command)
            } else if let path = s.health {
                #expect(test.last?.contains("http://127.0.0.1:\(s.healthPort ?? s.port)\(path)") == true)
            }
            let deps = try #require(c["depends_on"] as? [String: [String: String]])
            #expect(Set(deps.keys) == Set(s.dependsOn))
            #expect(deps.values.allSatisfy { $0["condition"] == "service_healthy" })
            #expect(c["volumes"] as? [String] == s.volumes)
            if let cmd = s.command { #expect(c["command"] as? [String] == cmd) }
            #expect(c["environment"] as? [String: String] == s.env)
            switch s.kind {
            case .platform: #expect(c["image"] as? String == s.image + ":v1.0.0")
            case .infrastructure: #expect(c["image"] as? String == s.image)
            }
        }
        #expect(services["nats"]?["ports"] as? [String] == ["127.0.0.1:4222:4222", "127.0.0.1:8222:8222"])
        #expect(services["auth"]?["ports"] as? [String] == ["127.0.0.1:8083:8088"])
        #expect(services["inference"]?["extra_hosts"] as? [String] == ["host.docker.internal:host-gateway"])
        // Named volumes declared; file secrets from the keys directory.
        #expect(doc["volumes"] as? [String] == ComposeBundle.namedVolumes(spec: spec))
        #expect((doc["volumes"] as? [String])?.contains("postgres_data") == true)
        let secrets = try #require(doc["secrets"] as? [String: String])
        #expect(secrets["unison_bootstrap_token"] == "/var/lib/unison/keys/bootstrap-token")
        #expect(Set(secrets.keys) == Set(spec.installer.fileSecrets.map(\.name)))
    }

    /// The bundle against the Compose Specification's JSON schema, as check-jsonschema vendors
    /// it (no network): every target's placement of Ollama, and a broken file refused.
    @Test("compose.yaml validates against the compose-spec JSON schema (check-jsonschema)", arguments: [OllamaPlacement.host, .container])
    func composeSpecSchema(ollama: OllamaPlacement) throws {
        let dir = try Fixture.tempDir("compose-schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try Fixture.spec()
        let plan = try InstallPlan.make(spec: spec, options: InstallOptions(mode: .docker, ollama: ollama))
        guard case let .writeFile(_, data, _, _, _)? = plan.operations.first(where: { $0.path == "/opt/unison-platform/compose.yaml" }) else {
            Issue.record("no compose file"); return
        }
        let file = dir.appendingPathComponent("compose.yaml")
        try data.write(to: file)
        let result = try Fixture.run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", file.path])
        #expect(result.status == 0, "\(result.stdoutString)\(result.stderrString)")
        // The env file picks the profile and where the services reach Ollama.
        guard case let .generateSecrets(_, template, _, _, _)? = plan.operations.first(where: { $0.path == "/etc/unison/platform.env" }) else {
            Issue.record("no env file"); return
        }
        #expect(EnvFile.value(of: "COMPOSE_PROFILES", in: template) == (ollama == .container ? "ollama" : ""))
        #expect(
            EnvFile.value(of: "OLLAMA_BASE_URL", in: template)
                == (ollama == .container ? "http://ollama:11434" : "http://host.docker.internal:11434"))
        #expect(EnvFile.value(of: "UNISON_KEYS_DIR", in: template) == "/var/lib/unison/keys")
        // The same tool refuses a file the schema does not allow (the check is real).
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "    restart: \"unless-stopped\"", with: "    restart: [1]")
        try Data(text.utf8).write(to: file)
        let bad = try Fixture.run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", file.path])
        #expect(bad.status != 0)
    }

    @Test(
        "YAML scalars that look like other types stay strings",
        arguments: [
            "yes", "no", "on", "off", "null", "~", "1.0", "0755", "2024-01-01", "a: b", "- x", "#hash", "quote\"d", "back\\slash",
            "tab\there", "multi\nline", "${VAR}", "",
        ])
    func yamlScalars(value: String) throws {
        let dir = try Fixture.tempDir("yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = YAMLValue.map([
            ("k", .string(value)), ("list", .list([.string(value), .map([("inner", .string(value)), ("n", .int(3))])])),
            ("empty", .map([])), ("none", .list([])),
        ])
        let file = dir.appendingPathComponent("v.yaml")
        try Data(doc.render().utf8).write(to: file)
        let r = try Fixture.run(["python3", "-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", file.path])
        #expect(r.status == 0, "\(r.stderrString)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        #expect(parsed["k"] as? String == value)
        let list = try #require(parsed["list"] as? [Any])
        #expect(list.first as? String == value)
        #expect((list.last as? [String: Any])?["inner"] as? String == value)
        #expect((list.last as? [String: Any])?["n"] as? Int == 3)
        #expect((parsed["empty"] as? [String: Any])?.isEmpty == true)
        #expect((parsed["none"] as? [Any])?.isEmpty == true)
    }

    @Test("both units pass systemd-analyze verify in a staged root")
    func unitsVerify() throws {
        let dir = try Fixture.tempDir("units")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Fixture.install(into: root)
        // The staged root needs systemd's own units (sysinit.target, …) to resolve dependencies.
        let systemUnits = root.appendingPathComponent("usr/lib/systemd")
        try FileManager.default.createDirectory(at: systemUnits, withIntermediateDirectories: true)
        let copy = try Fixture.run(["cp", "-a", "/usr/lib/systemd/system", systemUnits.path + "/"])
        #expect(copy.status == 0, "\(copy.stderrString)")
        let units = ["unison-platform.service", "unison-firstboot.service"].map { root.path + "/etc/systemd/system/" + $0 }
        let result = try Fixture.run(
            ["systemd-analyze", "verify", "--man=no", "--root=\(root.path)"] + units,
            env: ["SYSTEMD_LOG_LEVEL": "notice"])
        #expect(result.status == 0, "\(result.stdoutString)\(result.stderrString)")
        let unisonLines = (result.stdoutString + result.stderrString).split(separator: "\n").filter { $0.contains("unison") }
        #expect(unisonLines.isEmpty, "\(unisonLines)")

        // The checker does find a broken unit: an ExecStart that is not executable.
        let broken = root.path + "/etc/systemd/system/unison-broken.service"
        try Data("[Service]\nExecStart=/opt/unison-platform/bin/nope\n".utf8).write(to: URL(fileURLWithPath: broken))
        let bad = try Fixture.run(["systemd-analyze", "verify", "--man=no", "--root=\(root.path)", broken])
        #expect(bad.status != 0)
    }

    @Test("the first-boot unit runs after multi-user.target, once, and prints to the console")
    func firstBootUnitShape() throws {
        let spec = try Fixture.spec()
        let unit = SystemdUnits.firstBootUnit(spec: spec, layout: InstallLayout(spec: spec))
        for line in [
            "DefaultDependencies=no", "ConditionPathExists=!/var/lib/unison/.firstboot-done",
            "StandardOutput=journal+console", "WantedBy=multi-user.target", "Type=oneshot",
        ] {
            #expect(unit.contains(line + "\n"), "\(line)")
        }
        #expect(unit.contains("After=sysinit.target basic.target multi-user.target unison-platform.service\n"))
        #expect(!unit.contains("docker"), "first boot must not depend on Docker")
    }

    @Test("the shell helpers are shellcheck-clean")
    func shellcheck() throws {
        let dir = try Fixture.tempDir("shellcheck")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Fixture.install(into: root, mode: .wsl)
        let scripts = ["unison-env", "unison-compose", "unison-firstboot", "unison-wsl-boot"].map { root.path + "/opt/unison-platform/bin/" + $0 }
        let result = try Fixture.run(["shellcheck", "-s", "sh"] + scripts)
        #expect(result.status == 0, "\(result.stdoutString)")
    }
}
