import Foundation
import Testing
import UnisonCore
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

/// A planted root with secrets everywhere — env keys named like secrets, short values, URL
/// passwords, multi-line values, compose and spec literals, tokens and headers in logs, a
/// symlink to a host file — checked against the extracted bundle with GNU tar and grep.
@Suite("diag redaction against a planted root", .tags(.interop))
struct DiagRedactionTests {
    func sh(_ command: String, cwd: URL) throws -> ProcessResult {
        try SystemProcessRunner().run(["/bin/sh", "-c", command], environment: nil, input: nil, workingDirectory: cwd)
    }

    static let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCpemline1\npemline2-secret-base64data\n-----END PRIVATE KEY-----"

    /// Secret values planted in the env file (key: value), each of which must not reach the bundle.
    static let envSecrets: [(String, String)] = [
        ("DB_PASS", "db-pass-value-1"), ("SMTP_AUTH", "smtp-auth-value-2"), ("JWT_SIGNING", "jwt-signing-value-3"),
        ("GH_PAT", "gh-pat-value-4"), ("SHORT_PASSWORD", "pw9x"), ("API_KEY", "k3y5"),
    ]
    static let urlPassword = "url-pass-42"
    static let logOnly = [
        "ghp_0123456789abcdefghijABCDEFGHIJ012345", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "eyJhbGciOiJIUzI1NiJ9.bearer-payload.sig", "dXNlcjpzM2NyZXQtYmFzaWM=",
    ]
    static let composeLiteral = "compose-literal-pw-5"
    static let specLiteral = "spec-literal-secret-6"
    static let hostFileSecret = "HOST-FILE-SECRET-CONTENT-7"

    @Test("no planted secret reaches the bundle; what could not be read is said; the env file's placeholders and plain values stay")
    func plantedRoot() throws {
        var spec = try FieldFixture.spec()
        spec.installer.env["API_SECRET"] = Self.specLiteral
        let root = try FieldFixture.stageNative("diag-planted")
        defer { try? FileManager.default.removeItem(at: root) }
        let envPath = root.path + spec.installer.envFile
        var env = try String(contentsOfFile: envPath, encoding: .utf8)
        let generated = spec.installer.secrets.compactMap { EnvFile.value(of: $0.name, in: env) }
        for (k, v) in Self.envSecrets { env += "\(k)=\(v)\n" }
        env += "DATABASE_URL=postgres://app:\(Self.urlPassword)@db:5432/app\n"
        env += "TLS_KEY=\"\(Self.pem)\"\n"
        env += "PLAIN=visible-value\nNEW_TOKEN=CHANGE_ME\n"
        try Data(env.utf8).write(to: URL(fileURLWithPath: envPath))
        // A compose literal, and a symlink in the collected tree pointing at a host file.
        let composePath = root.path + "/opt/unison-platform/compose.yaml"
        try Data((try String(contentsOfFile: composePath, encoding: .utf8) + "# x-note:\n#   ADMIN_PASSWORD: \(Self.composeLiteral)\n").utf8)
            .write(to: URL(fileURLWithPath: composePath))
        let outside = try OpsFixture.tempDir("diag-host-file")
        defer { try? FileManager.default.removeItem(at: outside) }
        let hostFile = outside.appendingPathComponent("shadow")
        try Data("root:\(Self.hostFileSecret):0\n".utf8).write(to: hostFile)
        let manifestPath = root.path + "/var/lib/unison/install-manifest.json"
        try? FileManager.default.removeItem(atPath: manifestPath)
        try FileManager.default.createSymbolicLink(atPath: manifestPath, withDestinationPath: hostFile.path)
        // A spec file with the literal, as `--spec` would give it.
        let specFile = outside.appendingPathComponent("unison.yaml")
        try Data((try FieldFixture.specText() + "\n# installer env carries API_SECRET: \(Self.specLiteral)\n").utf8).write(to: specFile)
        // One model manifest with a hostile size: the bundle is still written.
        let store = root.appendingPathComponent("var/lib/unison/models")
        try FieldFixture.writeModel(store: store, name: FieldFixture.qwen, seed: "p")
        let bad = store.appendingPathComponent("manifests/registry.ollama.ai/library/bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try Data(
            #"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:\#(String(repeating: "b", count: 64))","size":9223372036854775807},"layers":[]}"#
                .utf8
        )
        .write(to: bad.appendingPathComponent("1b"))

        let journal = """
            auth: login with \(Self.envSecrets[0].1) ok
            short: user pw9x logged in; k3y5 used
            db: connecting to postgres://app:\(Self.urlPassword)@db:5432/app (password \(Self.urlPassword))
            http: Authorization: Bearer \(Self.logOnly[2])
            http: Authorization: Basic \(Self.logOnly[3])
            git: token \(Self.logOnly[0]) and \(Self.logOnly[1])
            tls: \(Self.pem)
            tls: continuation only: pemline2-secret-base64data
            smtp: SMTP_AUTH=\(Self.envSecrets[1].1) signing \(Self.envSecrets[2].1) pat \(Self.envSecrets[3].1)
            generated: \(generated.joined(separator: " "))
            spec: api secret is \(Self.specLiteral)
            """
        let runner = ScriptedRunner([
            (["systemctl"], ProcessResult(status: 3, stdout: Data("inactive\n".utf8), stderr: Data()), 0),
            (["journalctl"], ProcessResult(status: 0, stdout: Data(journal.utf8), stderr: Data()), 0),
            (["docker"], nil, 0),
        ])
        let out = try OpsFixture.tempDir("diag-planted-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let control = StackControl(spec: spec, runner: runner, root: root, systemdProbe: "/nonexistent")
        let result = try DiagBundle(
            control: control, options: DiagOptions(output: out, specFile: specFile, hostName: "planted"),
            clock: FixedClock(Date(timeIntervalSince1970: 1_764_201_600))
        ).write()

        // Independent readers: GNU tar extracts it, grep looks for every planted value.
        #expect(try sh("tar -xzf '\(result.bundle)'", cwd: out).status == 0)
        let planted =
            generated + Self.envSecrets.map(\.1) + [Self.urlPassword, "pemline1", "pemline2-secret-base64data"]
            + Self.logOnly + [Self.composeLiteral, Self.specLiteral, Self.hostFileSecret]
        for value in planted {
            let grep = try sh("grep -r -l -a -F -e '\(value)' .", cwd: out)
            #expect(grep.stdoutString.isEmpty, "'\(value)' leaked into \(grep.stdoutString)")
            let gz = try sh("gzip -dc '\(result.bundle)' | grep -c -a -F -e '\(value)'", cwd: out)
            #expect(gz.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "'\(value)' in the tar stream")
        }
        // …and grep does find them where they were planted (the checks above could fail).
        for value in generated + Self.envSecrets.map(\.1) { #expect(try sh("grep -c -F -e '\(value)' '\(envPath)'", cwd: out).status == 0) }
        let dir = out.appendingPathComponent("unison-diag-planted-20251127T000000Z")
        let redacted = try String(contentsOf: dir.appendingPathComponent("install/platform.env.redacted"), encoding: .utf8)
        #expect(redacted.contains("PLAIN=visible-value") && redacted.contains("NEW_TOKEN=CHANGE_ME"), "\(redacted)")
        #expect(redacted.contains("TLS_KEY=<redacted>") && redacted.contains("DATABASE_URL=postgres://app:<redacted>@db:5432/app"), "\(redacted)")
        let journalOut = try String(contentsOf: dir.appendingPathComponent("systemd/journal.txt"), encoding: .utf8)
        #expect(
            journalOut.contains("Authorization: Bearer <redacted>") && journalOut.contains("-----BEGIN PRIVATE KEY----- <redacted>"), "\(journalOut)")
        // What was not read is said; the symlink was not followed.
        let notCollected = try String(contentsOf: dir.appendingPathComponent("install/not-collected.txt"), encoding: .utf8)
        #expect(
            notCollected.contains("/var/lib/unison/install-manifest.json is a symbolic link to \(hostFile.path); not followed"), "\(notCollected)")
        // One bad model manifest: reported, the bundle written, the good model verified.
        let verify = try String(contentsOf: dir.appendingPathComponent("models/verify.json"), encoding: .utf8)
        #expect(verify.contains("registry.ollama.ai/library/bad:1b") && verify.contains("qwen2.5"), "\(verify)")
        var st = stat()
        #expect(stat(result.bundle, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test(
        "patterns alone, without any learned value",
        arguments: [
            ("postgres://u:p4ss-w0rd@h/db", "postgres://u:<redacted>@h/db"),
            ("Authorization: Bearer abc.def.ghi-jkl", "Authorization: Bearer <redacted>"),
            ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic <redacted>"),
            ("WWW-Authenticate: Basic realm=\"x\"", "WWW-Authenticate: Basic realm=\"x\""),
            ("ghp_0123456789abcdefghijKLMNOP and gho_0123456789abcdefghijKLMNOP", "<redacted> and <redacted>"),
            ("DB_PASS: hunter22", "DB_PASS: <redacted>"), ("\"password\": \"x1\"", "\"password\": \"<redacted>\""),
            ("GH_PAT=abc", "GH_PAT=<redacted>"), ("NATS_TOKEN=CHANGE_ME", "NATS_TOKEN=CHANGE_ME"), ("passed: 3", "passed: 3"),
            ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----",
                "-----BEGIN OPENSSH PRIVATE KEY----- <redacted> -----END OPENSSH PRIVATE KEY-----"
            ),
        ])
    func patterns(input: String, expected: String) throws {
        let r = DiagRedaction(spec: try FieldFixture.spec())
        #expect(r.scrub(input) == expected)
    }
}
