// Optional, local, privacy-preserving telemetry. There is no network code here, and none may
// be added: events stay in files on the machine until a person exports a summary and shares
// it by hand.
//
//   <telemetry.dir>/settings.json               {"schema": "unisonctl.telemetry-settings/v1", "enabled": true, ...}
//   <telemetry.dir>/events-YYYY-MM-DD.jsonl     one JSON object per line: "day" plus allow-listed fields
//
// Off unless enabled: the spec's `telemetry.enabled` is the default, the settings file (written
// by `enable`/`disable`) overrides it. Days are UTC; nothing finer than a day is stored. Files
// older than `telemetry.retentionDays` are pruned whenever events are recorded, shown or
// exported.
import FoundationEssentials
import Glibc
import UnisonCore
import UnisonSpec

package struct TelemetrySettings: Sendable, Codable, Equatable {
    package var schema = "unisonctl.telemetry-settings/v1"
    package var enabled: Bool
    /// The UTC day the setting was changed.
    package var changedOn: String
}

package struct TelemetryStatus: Sendable, Codable, Equatable {
    package var schema = "unisonctl.telemetry-status/v1"
    package var enabled: Bool
    /// "spec" (the default from unison.yaml) or "local" (the settings file).
    package var source: String
    package var dir: String
    package var retentionDays: Int
    package var fields: [String]
    package var files: Int
    package var events: Int
    package var firstDay: String?
    package var lastDay: String?
    package var network = "none: telemetry is never sent anywhere; export a summary and share it by hand"
}

package struct TelemetryEvent: Sendable, Equatable {
    package var day: String
    package var fields: [String: String]

    /// One line of JSON, keys sorted.
    func jsonLine() throws -> Data {
        var object: [String: String] = fields
        object["day"] = day
        // JSONEncoder escapes "/" as JSONSerialization did; the keys are lowercase ASCII and "_",
        // which every key order sorts the same way.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(object) + Data("\n".utf8)
    }
}

package struct TelemetryRecordResult: Sendable, Codable, Equatable {
    package var schema = "unisonctl.telemetry-record/v1"
    package var recorded: Bool
    package var reason: String?
    package var file: String?
    package var event: [String: String]?
    package var pruned: [String]
}

package struct TelemetryEventList: Sendable, Codable, Equatable {
    package var schema = "unisonctl.telemetry-events/v1"
    package var events: [[String: String]]
    /// Lines that were not valid events, or fields outside the allow-list that were dropped.
    package var dropped: Int
}

package struct TelemetrySummary: Sendable, Codable, Equatable {
    package var schema = "unisonctl.telemetry-export/v1"
    package var platform: String
    package var exportedOn: String
    package var firstDay: String?
    package var lastDay: String?
    package var days: Int
    package var events: Int
    /// field -> value -> number of events.
    package var counts: [String: [String: Int]]
}

package struct TelemetryPurgeResult: Sendable, Codable, Equatable {
    package var schema = "unisonctl.telemetry-purge/v1"
    package var removed: [String]
}

package struct TelemetryStore: Sendable {
    package var spec: PlatformSpec
    package var root: URL
    package var clock: any WallClock

    package init(spec: PlatformSpec, root: URL = URL(fileURLWithPath: "/"), clock: any WallClock = SystemClock()) {
        self.spec = spec
        self.root = root
        self.clock = clock
    }

    /// `telemetry.dir` under the root. `spec validate` requires an absolute path; a relative
    /// one is still taken from `/`, never from the working directory.
    package var dir: URL {
        let path = spec.telemetry.dir.hasPrefix("/") ? spec.telemetry.dir : "/" + spec.telemetry.dir
        return URL(fileURLWithPath: root.path == "/" ? path : root.path + path)
    }
    var settingsURL: URL { dir.appendingPathComponent("settings.json") }

    /// The fields both this code and the spec's allow-list know, in the spec's order.
    package var allowList: [TelemetryField] { spec.telemetry.fields.compactMap(TelemetryField.init(rawValue:)) }

    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt  // TimeZone(identifier:) needs ICU, which is not linked
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return "\(NumberText.decimal(c.year!, width: 4))-\(NumberText.decimal(c.month!, width: 2))-\(NumberText.decimal(c.day!, width: 2))"
    }

    static func date(ofDay day: String) -> Date? {
        // yyyy-MM-dd in UTC; the round trip through `day` refuses what no calendar has (02-30).
        let parts = day.split(separator: "-", omittingEmptySubsequences: false)
        guard day.count == 10, parts.count == 3, parts.map(\.count) == [4, 2, 2],
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt  // TimeZone(identifier:) needs ICU, which is not linked
        let components = DateComponents(year: Int(parts[0]), month: Int(parts[1]), day: Int(parts[2]))
        guard let d = calendar.date(from: components), Self.day(d) == day else { return nil }
        return d
    }

    package var today: String { Self.day(clock.now()) }

    // MARK: settings

    package func settings() -> TelemetrySettings? {
        guard let data = FileManager.default.contents(atPath: settingsURL.path) else { return nil }
        return try? JSONDecoder().decode(TelemetrySettings.self, from: data)
    }

    package var isEnabled: Bool { settings()?.enabled ?? spec.telemetry.enabled }

    @discardableResult
    package func setEnabled(_ enabled: Bool) throws -> TelemetryStatus {
        let settings = TelemetrySettings(enabled: enabled, changedOn: today)
        do {
            try makeDir()
            try AtomicFile.write(try JSONOutput.encoder().encode(settings) + Data("\n".utf8), to: settingsURL, permissions: 0o600)
        } catch {
            throw TelemetryError.io(path: settingsURL.path, reason: "\(error)")
        }
        return try status()
    }

    func makeDir() throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    // MARK: files

    /// `events-YYYY-MM-DD.jsonl` regular files, by day (symlinks are not events files).
    func eventFiles() -> [(day: String, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("events-"), name.hasSuffix(".jsonl") else { return nil }
            var st = stat()
            guard lstat(dir.appendingPathComponent(name).path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            let day = String(name.dropFirst(7).dropLast(6))
            guard Self.date(ofDay: day) != nil else { return nil }
            return (day, dir.appendingPathComponent(name))
        }.sorted { $0.day < $1.day }
    }

    package func status() throws -> TelemetryStatus {
        let files = eventFiles()
        let events = files.reduce(0) { n, f in n + ((try? String(contentsOf: f.url, encoding: .utf8))?.split(separator: "\n").count ?? 0) }
        return TelemetryStatus(
            enabled: isEnabled, source: settings() == nil ? "spec" : "local", dir: spec.telemetry.dir,
            retentionDays: spec.telemetry.retentionDays, fields: allowList.map(\.rawValue), files: files.count,
            events: events, firstDay: files.first?.day, lastDay: files.last?.day)
    }

    /// Removes event files older than the retention period; returns their names.
    @discardableResult
    package func prune() throws -> [String] {
        guard let todayDate = Self.date(ofDay: today) else { return [] }
        let cutoff = todayDate.addingTimeInterval(-Double(spec.telemetry.retentionDays) * 86_400)
        var removed: [String] = []
        for file in eventFiles() {
            guard let d = Self.date(ofDay: file.day), d < cutoff else { continue }
            do { try FileManager.default.removeItem(at: file.url) } catch {
                throw TelemetryError.io(path: file.url.path, reason: "cannot remove: \(error)")
            }
            removed.append(file.url.lastPathComponent)
        }
        return removed
    }

    // MARK: events

    /// Checks every field against the allow-list and coarsens its value; anything else is refused.
    package func makeEvent(_ raw: [String: String]) throws -> TelemetryEvent {
        let allowed = allowList
        var fields: [String: String] = [:]
        for key in raw.keys.sorted() {
            guard let field = TelemetryField(rawValue: key), allowed.contains(field) else {
                throw TelemetryError.unknownField(key, allowed: allowed.map(\.rawValue))
            }
            fields[key] = try field.normalize(raw[key]!, spec: spec).get()
        }
        return TelemetryEvent(day: today, fields: fields)
    }

    /// Appends one event to today's file, when telemetry is enabled; writes nothing otherwise.
    package func record(_ raw: [String: String]) throws -> TelemetryRecordResult {
        let event = try makeEvent(raw)
        guard isEnabled else {
            return TelemetryRecordResult(recorded: false, reason: TelemetryError.disabled.description, file: nil, event: nil, pruned: [])
        }
        guard !event.fields.isEmpty else {
            return TelemetryRecordResult(recorded: false, reason: "no field to record", file: nil, event: nil, pruned: [])
        }
        let url = dir.appendingPathComponent("events-\(event.day).jsonl")
        do {
            try makeDir()
            let line = try event.jsonLine()
            // Never through a symlink: a planted events file must not turn recording into a
            // write to some other file.
            let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else {
                let code = errno
                throw TelemetryError.io(path: url.path, reason: code == ELOOP ? "is a symbolic link; not followed" : String(cString: strerror(code)))
            }
            defer { close(fd) }
            // One write(2) per line with O_APPEND: concurrent recorders never interleave a line.
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n == line.count else { throw TelemetryError.io(path: url.path, reason: "short write") }
        } catch let error as TelemetryError {
            throw error
        } catch {
            throw TelemetryError.io(path: url.path, reason: "\(error)")
        }
        let pruned = try prune()
        var shown = event.fields
        shown["day"] = event.day
        return TelemetryRecordResult(recorded: true, reason: nil, file: url.path, event: shown, pruned: pruned)
    }

    /// Every stored event (after pruning), oldest day first; lines that are not JSON objects
    /// are skipped and fields outside the allow-list dropped, both counted in `dropped`.
    package func events() throws -> TelemetryEventList {
        if isEnabled || FileManager.default.fileExists(atPath: dir.path) { _ = try? prune() }
        let allowed = Set(allowList.map(\.rawValue))
        var out: [[String: String]] = []
        var dropped = 0
        for file in eventFiles() {
            let text = (try? String(contentsOf: file.url, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where !line.trimming(.whitespaces).isEmpty {
                guard let object = (try? JSONValue.parse(Data(line.utf8)))?.object else { dropped += 1; continue }
                var event: [String: String] = ["day": file.day]
                var lost = false
                for (k, v) in object where k != "day" {
                    if allowed.contains(k), let s = v.string, let field = TelemetryField(rawValue: k),
                        case let .success(value) = field.normalize(s, spec: spec)
                    {
                        event[k] = value
                    } else {
                        lost = true
                    }
                }
                if lost { dropped += 1 }
                out.append(event)
            }
        }
        return TelemetryEventList(events: out, dropped: dropped)
    }

    /// Counts per field value across every stored event; days only, no finer time.
    package func summary() throws -> TelemetrySummary {
        let list = try events()
        var counts: [String: [String: Int]] = [:]
        for event in list.events {
            for (k, v) in event where k != "day" { counts[k, default: [:]][v, default: 0] += 1 }
        }
        let days = Set(list.events.compactMap { $0["day"] })
        return TelemetrySummary(
            platform: spec.platform.name, exportedOn: today, firstDay: days.min(), lastDay: days.max(),
            days: days.count, events: list.events.count, counts: counts)
    }

    /// Writes the summary to `url` atomically (sorted keys, so equal data gives equal bytes).
    package func export(to url: URL) throws -> TelemetrySummary {
        let summary = try summary()
        var isDir = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir {
            throw TelemetryError.badOutput(path: url.path, reason: "is a directory")
        }
        do {
            try AtomicFile.write(try JSONOutput.encoder().encode(summary) + Data("\n".utf8), to: url, permissions: 0o644)
        } catch {
            throw TelemetryError.io(path: url.path, reason: "\(error)")
        }
        return summary
    }

    /// Removes every event file (the setting is kept).
    package func purge() throws -> TelemetryPurgeResult {
        var removed: [String] = []
        for file in eventFiles() {
            do { try FileManager.default.removeItem(at: file.url) } catch {
                throw TelemetryError.io(path: file.url.path, reason: "cannot remove: \(error)")
            }
            removed.append(file.url.lastPathComponent)
        }
        return TelemetryPurgeResult(removed: removed)
    }
}
