import FoundationEssentials
import UnisonCore
import UnisonInstall
import UnisonSpec

/// The allow-listed fields as this machine has them now, for `telemetry record` without
/// explicit fields: version, channel and mode from the install's release record, the model
/// pack from the env file, uptime from /proc/uptime (bucketed), and service health from the
/// local health endpoints (127.0.0.1 only; nothing leaves the machine).
package enum TelemetrySnapshot {
    package static func collect(control: StackControl, uptimePath: String = "/proc/uptime", checkHealth: Bool = true) -> [String: String] {
        let layout = control.layout
        let spec = control.spec
        var out: [String: String] = [:]
        if let data = FileManager.default.contents(atPath: control.hostPath(layout.releaseRecord)),
            let record = try? JSONDecoder().decode(InstalledRelease.self, from: data)
        {
            out["platform_version"] = record.version
            out["channel"] = record.channel
            out["model_pack"] = record.modelPack
            if TelemetryField.installModes.contains(record.mode.rawValue) { out["target"] = record.mode.rawValue }
        } else {
            out["platform_version"] = spec.platform.version.description
        }
        if let env = try? String(contentsOfFile: control.hostPath(layout.envFile), encoding: .utf8),
            let pack = EnvFile.value(of: "UNISON_MODEL_PACK", in: env)
        {
            out["model_pack"] = pack
        }
        if let text = try? String(contentsOfFile: uptimePath, encoding: .utf8),
            let seconds = text.split(separator: " ").first.flatMap({ Double($0) })
        {
            out["uptime_bucket"] = TelemetryField.uptimeBucket(seconds: seconds)
        }
        if checkHealth {
            // Only services whose compose profile is on run; the others are not counted.
            let report = HealthChecker(spec: spec, requestTimeout: 2, activeProfiles: control.activeProfiles).checkOnce()
            let checked = report.services.filter { $0.state != .unknown }
            out["service_health"] = TelemetryField.health(healthy: checked.filter { $0.state == .healthy }.count, total: checked.count)
        }
        // Only what the spec allows, and only values the fields accept.
        let allowed = Set(spec.telemetry.fields)
        return out.filter { key, value in
            guard allowed.contains(key), let field = TelemetryField(rawValue: key) else { return false }
            if case .success = field.normalize(value, spec: spec) { return true }
            return false
        }
    }
}
