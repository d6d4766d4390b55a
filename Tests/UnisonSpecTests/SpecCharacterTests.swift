import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonSpec

/// Every spec field that reaches a file name, a shell script, a systemd unit or an env file
/// refuses command substitution, quotes, newlines and `..` in `spec validate`, at the value.
@Suite("spec character policy", .tags(.unit))
struct SpecCharacterTests {
    /// `minimal.yaml` with extra lines under `platform:` and with `installer:`, `qa:`,
    /// `telemetry:` and `models:` written out, so each field can be replaced.
    static func spec(_ replace: [String: String]) -> String {
        var fields: [String: String] = [
            "platform.name": "unisonos", "platform.displayName": "UnisonOS",
            "installer.prefix": "/opt/unison-platform", "installer.envFile": "/etc/unison/platform.env",
            "installer.dataDir": "/var/lib/unison", "installer.unit": "unison-platform.service",
            "installer.firstBootUnit": "unison-firstboot.service", "installer.composeProject": "unison",
            "installer.env.value": "info", "installer.env.key": "LOG_LEVEL", "services[0].env.value": "1",
            "models.store": "/var/lib/unison/models", "models.packs[0].name": "light", "qa.boot.marker": "UNISONOS-FIRSTBOOT-OK",
            "telemetry.dir": "/var/lib/unison/telemetry", "targets.wsl.defaultUser": "unison", "services[0].name": "auth",
        ]
        for (k, v) in replace { fields[k] = v }
        func q(_ k: String) -> String { fields[k]! }
        return """
            schema: 1
            platform:
              name: \(q("platform.name"))
              displayName: \(q("platform.displayName"))
              org: project-unisonos
            repos:
              - name: unison-docs
                role: docs
            services:
              - name: \(q("services[0].name"))
                repo: unison-auth
                port: 8084
                health: /health
                env:
                  AUTH_WORKERS: \(q("services[0].env.value"))
            infrastructure:
              - name: postgres
                image: docker.io/library/postgres:15
                port: 5432
                healthCommand: pg_isready
            channels:
              nightly: {tags: ["type=edge,branch=main"]}
              beta: {tags: ["type=semver,pattern={{version}}"]}
              stable: {tags: ["type=semver,pattern={{version}}"]}
            models:
              store: \(q("models.store"))
              packs:
                - name: \(q("models.packs[0].name"))
                  minRam: 4GB
                  minDisk: 10GB
            bases:
              - {name: deb, kind: mmdebstrap, suite: bookworm}
            targets:
              wsl:
                base: deb
                models: light
                defaultUser: \(q("targets.wsl.defaultUser"))
            installer:
              prefix: \(q("installer.prefix"))
              envFile: \(q("installer.envFile"))
              dataDir: \(q("installer.dataDir"))
              unit: \(q("installer.unit"))
              firstBootUnit: \(q("installer.firstBootUnit"))
              composeProject: \(q("installer.composeProject"))
              env:
                \(q("installer.env.key")): \(q("installer.env.value"))
            qa:
              boot:
                marker: \(q("qa.boot.marker"))
            telemetry:
              dir: \(q("telemetry.dir"))

            """
    }

    @Test("the unmodified spec validates (so each failure below is the injected value's)")
    func baseline() throws {
        _ = try SpecLoader.load(text: Self.spec([:]))
    }

    /// Hostile values as YAML double-quoted scalars.
    static let hostile = [#""x$(touch /tmp/unison-pwned)""#, #""a'b""#, #""a\"b""#, #""a\nExecStartPre=/bin/sh""#, #""../../etc""#]
    static let hostilePaths = [
        #""/opt/$(id)""#, #""/opt/a'b""#, #""/opt/a\"b""#, #""/opt/x\ny""#, #""/opt/../etc""#,
        #""/etc/unison/../../root/.env""#, #""/opt/a b""#, #""/opt/%h""#, #""relative/dir""#,
    ]

    static let cases: [(field: String, value: String)] =
        [
            "platform.name", "installer.unit", "installer.firstBootUnit", "installer.composeProject", "models.packs[0].name",
            "qa.boot.marker", "targets.wsl.defaultUser", "installer.env.key", "services[0].name",
        ].flatMap { f in hostile.map { (f, $0) } }
        + ["installer.prefix", "installer.envFile", "installer.dataDir", "models.store", "telemetry.dir"].flatMap { f in hostilePaths.map { (f, $0) }
        }
        + [
            ("platform.displayName", #""UnisonOS\nExecStartPre=/bin/touch /tmp/pwned""#), ("platform.displayName", #""50%n""#),
            ("platform.displayName", #""back\\slash""#), ("installer.env.value", #""a\nINJECTED=1""#),
            ("installer.env.value", #""a\rb""#), ("services[0].env.value", #""x\nY=2""#),
        ]

    @Test("each hostile value is refused at its line and column", arguments: cases.indices)
    func refused(_ index: Int) throws {
        let (field, value) = Self.cases[index]
        let text = Self.spec([field: value])
        let error = try #require(throws: SpecError.self) { try SpecLoader.load(text: text, file: "hostile.yaml") }
        // Where the value was written: the line holding it, at its opening quote.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains(value) })
        let column = try #require(lines[line].range(of: value)).lowerBound.utf16Offset(in: lines[line]) + 1
        let at = error.diagnostics.filter { $0.line == line + 1 && $0.column == column }
        #expect(!at.isEmpty, "\(field)=\(value): \(error.description)")
        // No diagnostic prints a raw control character.
        #expect(error.diagnostics.allSatisfy { !$0.description.contains("\n") && !$0.description.contains("\r") })
    }

    @Test("command substitution and quotes are data in the display name (the generators quote it)")
    func displayNameData() throws {
        let spec = try SpecLoader.load(text: Self.spec(["platform.displayName": #""Unison $(id) 'OS'""#]))
        #expect(spec.platform.displayName == "Unison $(id) 'OS'")
    }

    @Test("a spec that is not UTF-8 is refused at the line and column of the bad byte")
    func invalidUTF8() throws {
        let text = Self.spec([:])
        let prefix = try #require(text.range(of: "displayName: Uni")).upperBound
        var bytes = Array(text.utf8)
        let at = text.utf8.distance(from: text.startIndex, to: prefix)
        bytes.insert(0xff, at: at)
        let dir = try TempDir.create("spec-utf8")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("unison.yaml")
        try Data(bytes).write(to: file)
        let error = try #require(throws: SpecError.self) { try SpecLoader.load(file: file) }
        let d = try #require(error.diagnostics.first)
        #expect(d.line == 4 && d.column == 19, "\(d)")
        #expect(d.message.contains("not UTF-8") && d.message.contains("0xff"), "\(d)")
    }

    @Test(
        "the rules themselves",
        arguments: [
            (SpecCharacterRule.name, "unisonos", true), (.name, "unison-os_1.2", true), (.name, "a..b", false), (.name, "-x", false),
            (.name, "", false), (.name, "a/b", false), (.absolutePath, "/opt/unison-platform", true), (.absolutePath, "/opt//x", false),
            (.absolutePath, "/opt/x/", false), (.absolutePath, "/", false), (.absolutePath, "/opt/./x", false),
            (.unitName, "unison@1.service", true), (.unitName, ".service", false), (.unitName, "a b.service", false),
            (.unitText, "UnisonOS — the OS", true), (.unitText, "a\u{2028}b", false), (.marker, "UNISONOS-FIRSTBOOT-OK", true),
            (.envKey, "_A1", true), (.envKey, "1A", false), (.envValue, "tab\there", false), (.envValue, "ünïcødé $x 'q'", true),
            (.userName, "unison", true), (.userName, "Root", false), (.project, "unison_1-a", true), (.project, "Unison", false),
        ])
    func rules(rule: SpecCharacterRule, value: String, ok: Bool) {
        #expect((rule.problem(value) == nil) == ok, "\(rule) '\(value)': \(rule.problem(value) ?? "ok")")
    }
}
