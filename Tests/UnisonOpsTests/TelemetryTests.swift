import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonOps

@Suite("telemetry", .tags(.interop))
struct TelemetryTests {
    static let day0 = Date(timeIntervalSince1970: 1_764_201_600 + 13 * 3600)  // 2025-11-27T13:00Z

    func store(_ root: URL, at date: Date = day0, spec: PlatformSpec? = nil) throws -> TelemetryStore {
        TelemetryStore(spec: try spec ?? FieldFixture.spec(), root: root, clock: FixedClock(date))
    }

    func files(_ store: TelemetryStore) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.dir.path)) ?? []).sorted()
    }

    let event = [
        "platform_version": "0.5.0", "channel": "stable", "model_pack": "default", "target": "vm",
        "uptime_bucket": "90000", "service_health": "degraded",
    ]

    @Test("off by default (spec telemetry.enabled: false): record writes nothing, not even the directory")
    func disabledWritesNothing() throws {
        let root = try OpsFixture.tempDir("tm-off")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root)
        #expect(!s.isEnabled)
        let result = try s.record(event)
        #expect(!result.recorded && result.reason?.contains("disabled") == true)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/var/lib/unison"))
        #expect(try s.status().source == "spec")
    }

    @Test("enable, record, show: one JSON line per event in the day's file, values coarse; disable stops recording")
    func recordAndShow() throws {
        let root = try OpsFixture.tempDir("tm-on")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root)
        let status = try s.setEnabled(true)
        #expect(status.enabled && status.source == "local")
        let result = try s.record(event)
        #expect(result.recorded && result.file == s.dir.path + "/events-2025-11-27.jsonl")
        #expect(result.event?["uptime_bucket"] == "1d-7d")
        _ = try s.record(["service_health": "ok", "uptime_bucket": "<1h"])
        #expect(files(s) == ["events-2025-11-27.jsonl", "settings.json"])

        // python3's json reads each line; only the day and allow-listed fields are there.
        let check = try SystemProcessRunner().run([
            "python3", "-c",
            """
            import json, sys
            allowed = {"day", "platform_version", "channel", "model_pack", "target", "uptime_bucket", "service_health"}
            for line in open(sys.argv[1]):
                e = json.loads(line)
                assert set(e) <= allowed, e
                assert e["day"] == "2025-11-27", e
            print("ok")
            """, s.dir.path + "/events-2025-11-27.jsonl",
        ])
        #expect(check.status == 0 && check.stdoutString == "ok\n", "\(check.stderrString)")
        let text = try String(contentsOfFile: s.dir.path + "/events-2025-11-27.jsonl", encoding: .utf8)
        #expect(!text.contains("T13:") && !text.contains("1764"), "no time finer than a day")

        let shown = try s.events()
        #expect(shown.events.count == 2 && shown.dropped == 0)
        #expect(shown.events[0]["target"] == "vm" && shown.events[1]["service_health"] == "ok")

        try s.setEnabled(false)
        #expect(try !(try s.record(event)).recorded)
        #expect(try s.events().events.count == 2)
    }

    @Test("a symlinked events file is neither written through nor read; a relative telemetry.dir is taken from /, not the working directory")
    func symlinkedEventsFile() throws {
        let root = try OpsFixture.tempDir("tm-link")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root)
        _ = try s.setEnabled(true)
        let target = root.appendingPathComponent("outside.txt")
        try Data("host file\n".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(
            atPath: s.dir.appendingPathComponent("events-2025-11-27.jsonl").path,
            withDestinationPath: target.path)
        let error = try #require(throws: TelemetryError.self) { try s.record(event) }
        #expect("\(error)".contains("symbolic link"), "\(error)")
        #expect(try String(contentsOf: target, encoding: .utf8) == "host file\n")
        #expect(try s.events().events.isEmpty)

        var relative = try FieldFixture.spec()
        relative.telemetry.dir = "var/lib/unison/telemetry"
        let r = try store(root, spec: relative)
        #expect(r.dir.path == root.path + "/var/lib/unison/telemetry")
    }

    @Test(
        "fields outside the allow-list and values outside their sets are refused",
        arguments: [
            (["hostname": "edge-01"], "not allowed"),
            (["ip": "10.0.0.1"], "not allowed"),
            (["service_health": "great"], "is not one of ok, degraded, down"),
            (["channel": "canary"], "is not one of"),
            (["model_pack": "huge"], "is not one of"),
            (["platform_version": "0.5.0+build.7"], "X.Y.Z"),
            (["platform_version": "my laptop"], "X.Y.Z"),
            (["uptime_bucket": "-5"], "a number of seconds"),
            (["target": "mainframe"], "is not one of"),
        ])
    func refused(fields: [String: String], message: String) throws {
        let root = try OpsFixture.tempDir("tm-refuse")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root)
        try s.setEnabled(true)
        do {
            _ = try s.record(fields)
            Issue.record("accepted \(fields)")
        } catch let error as TelemetryError {
            #expect(error.description.contains(message), "\(error)")
            #expect(error.exitStatus == .badInput)
        }
        #expect(files(s) == ["settings.json"], "nothing recorded")
    }

    @Test("a field the code knows but the spec's allow-list omits is refused")
    func specAllowList() throws {
        let text = try FieldFixture.specText().replacingOccurrences(
            of: "fields: [platform_version, channel, model_pack, target, uptime_bucket, service_health]",
            with: "fields: [platform_version, service_health]")
        let spec = try SpecLoader.load(text: text, file: "test.yaml")
        let root = try OpsFixture.tempDir("tm-allow")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root, spec: spec)
        try s.setEnabled(true)
        #expect(throws: TelemetryError.unknownField("channel", allowed: ["platform_version", "service_health"])) {
            try s.record(["channel": "stable"])
        }
        #expect(try s.record(["service_health": "down"]).recorded)
    }

    @Test(
        "uptime buckets",
        arguments: [
            (0.0, "<1h"), (3599.0, "<1h"), (3600.0, "1h-1d"), (86_399.0, "1h-1d"), (86_400.0, "1d-7d"),
            (7 * 86_400.0, "7d-30d"), (30 * 86_400.0, ">30d"),
        ] as [(Double, String)])
    func buckets(seconds: Double, bucket: String) {
        #expect(TelemetryField.uptimeBucket(seconds: seconds) == bucket)
    }

    @Test("retention: files older than retentionDays are pruned by the injected clock's day")
    func retention() throws {
        let root = try OpsFixture.tempDir("tm-retention")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root)
        try s.setEnabled(true)
        // Files of four earlier days, as earlier records left them.
        for daysAgo in [40, 31, 30, 1] {
            let day = TelemetryStore.day(Self.day0.addingTimeInterval(-Double(daysAgo) * 86_400))
            try Data(#"{"day":"\#(day)","service_health":"ok"}"#.utf8 + [10]).write(to: s.dir.appendingPathComponent("events-\(day).jsonl"))
        }
        #expect(
            files(s) == ["events-2025-10-18.jsonl", "events-2025-10-27.jsonl", "events-2025-10-28.jsonl", "events-2025-11-26.jsonl", "settings.json"])
        let result = try s.record(["service_health": "down"])
        #expect(result.pruned == ["events-2025-10-18.jsonl", "events-2025-10-27.jsonl"])
        #expect(files(s) == ["events-2025-10-28.jsonl", "events-2025-11-26.jsonl", "events-2025-11-27.jsonl", "settings.json"])
    }

    @Test("export: counts per value over days, no finer time; written atomically; show drops hand-added fields")
    func export() throws {
        let root = try OpsFixture.tempDir("tm-export")
        defer { try? FileManager.default.removeItem(at: root) }
        var s = try store(root)
        try s.setEnabled(true)
        s.clock = FixedClock(Self.day0.addingTimeInterval(-86_400))
        _ = try s.record(["service_health": "ok", "channel": "stable"])
        s.clock = FixedClock(Self.day0)
        _ = try s.record(["service_health": "ok", "channel": "beta"])
        _ = try s.record(["service_health": "down", "channel": "stable"])
        // A line edited by hand with a field outside the allow-list: dropped when read.
        let handle = try FileHandle(forWritingTo: s.dir.appendingPathComponent("events-2025-11-27.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"channel":"stable","serial":"XYZ-123"}"#.utf8 + [10]))
        try handle.close()

        let list = try s.events()
        #expect(list.dropped == 1 && list.events.count == 4 && !list.events.contains { $0["serial"] != nil })

        let out = root.appendingPathComponent("summary.json")
        let summary = try s.export(to: out)
        #expect(summary.events == 4 && summary.days == 2 && summary.firstDay == "2025-11-26" && summary.lastDay == "2025-11-27")
        #expect(summary.counts == ["channel": ["stable": 3, "beta": 1], "service_health": ["ok": 2, "down": 1]])
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(!text.contains("XYZ") && !text.contains("T13") && text.contains("\"schema\" : \"unisonctl.telemetry-export/v1\""))
        let parsed = try SystemProcessRunner().run(["python3", "-c", "import json,sys; d=json.load(open(sys.argv[1])); print(d['events'])", out.path])
        #expect(parsed.stdoutString == "4\n")
        #expect(throws: TelemetryError.self) { try s.export(to: root) }
    }

    @Test("purge removes every event file and keeps the setting")
    func purge() throws {
        let root = try OpsFixture.tempDir("tm-purge")
        defer { try? FileManager.default.removeItem(at: root) }
        let s = try store(root)
        try s.setEnabled(true)
        _ = try s.record(["service_health": "ok"])
        #expect(try s.purge().removed == ["events-2025-11-27.jsonl"])
        #expect(files(s) == ["settings.json"] && s.isEnabled)
    }

    @Test("record without fields: this machine's values from the release record, env file and uptime, coarse")
    func snapshot() throws {
        let root = try FieldFixture.stageNative("tm-snapshot")
        defer { try? FileManager.default.removeItem(at: root) }
        let uptime = root.appendingPathComponent("uptime")
        try Data("200000.52 380000.10\n".utf8).write(to: uptime)
        let spec = try FieldFixture.spec()
        let fields = TelemetrySnapshot.collect(control: StackControl(spec: spec, root: root), uptimePath: uptime.path, checkHealth: false)
        #expect(fields == ["platform_version": "0.5.0", "channel": "stable", "model_pack": "light", "target": "native", "uptime_bucket": "1d-7d"])
        let s = try store(root)
        try s.setEnabled(true)
        #expect(try s.record(fields).recorded)
    }

    @Test("the telemetry store has no network code")
    func noNetworkCode() throws {
        for file in ["Telemetry.swift", "Telemetry+Fields.swift"] {
            let text = try String(contentsOf: OpsFixture.repoRoot.appendingPathComponent("Sources/UnisonOps/\(file)"), encoding: .utf8)
            for word in [
                "socket(", "connect(", "URLSession", "URLRequest", "HTTPProbe", "HTTPExchange", "OllamaAPI", "FoundationNetworking", "import Network",
            ] {
                #expect(!text.contains(word), "\(file) contains \(word)")
            }
        }
    }
}
