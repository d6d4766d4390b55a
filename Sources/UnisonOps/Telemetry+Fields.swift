import FoundationEssentials
import UnisonCore
import UnisonSpec

/// The only fields a telemetry event may hold, each with a coarse value set: nothing that
/// identifies a person, a machine or a moment finer than a day. A field must also be in the
/// spec's `telemetry.fields` allow-list to be recorded.
package enum TelemetryField: String, Sendable, CaseIterable, Codable {
    case platformVersion = "platform_version"
    case channel
    case modelPack = "model_pack"
    case target
    case uptimeBucket = "uptime_bucket"
    case serviceHealth = "service_health"

    /// Uptime buckets, from an uptime in seconds.
    package static let uptimeBuckets = ["<1h", "1h-1d", "1d-7d", "7d-30d", ">30d"]
    package static let healthValues = ["ok", "degraded", "down"]
    /// How a platform runs: the spec's targets plus the installer's modes.
    package static let installModes = ["native", "docker", "wsl"]

    package static func uptimeBucket(seconds: Double) -> String {
        switch seconds {
        case ..<3600: return "<1h"
        case ..<86_400: return "1h-1d"
        case ..<(7 * 86_400): return "1d-7d"
        case ..<(30 * 86_400): return "7d-30d"
        default: return ">30d"
        }
    }

    /// ok when every service is healthy, down when none is, degraded otherwise.
    package static func health(healthy: Int, total: Int) -> String {
        healthy == total && total > 0 ? "ok" : healthy == 0 ? "down" : "degraded"
    }

    /// The coarse value to store for `raw`, or why it is refused.
    package func normalize(_ raw: String, spec: PlatformSpec) -> Result<String, TelemetryError> {
        let value = raw.trimming(.whitespaces)
        func oneOf(_ allowed: [String]) -> Result<String, TelemetryError> {
            allowed.contains(value) ? .success(value) : .failure(.badValue(field: rawValue, value: raw, allowed: allowed))
        }
        switch self {
        case .platformVersion:
            // A release version only (X.Y.Z with an optional pre-release), never build metadata.
            let core = value.hasPrefix("v") ? String(value.dropFirst()) : value
            let parts = core.split(separator: "-", maxSplits: 1)
            let numbers = parts.first?.split(separator: ".", omittingEmptySubsequences: false) ?? []
            let preOK = parts.count == 1 || parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") }
            guard numbers.count == 3, numbers.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                preOK, core.count <= 32
            else {
                return .failure(.badValue(field: rawValue, value: raw, allowed: ["X.Y.Z", "X.Y.Z-beta.N"]))
            }
            return .success(core)
        case .channel: return oneOf(spec.channels.map(\.name))
        case .modelPack: return oneOf(spec.models.packs.map(\.name))
        case .target:
            let targets = [spec.targets.wsl.map { _ in "wsl" }, spec.targets.vm.map { _ in "vm" }, spec.targets.iso.map { _ in "iso" }].compactMap {
                $0
            }
            return oneOf(Array(Set(targets + Self.installModes)).sorted())
        case .uptimeBucket:
            if Self.uptimeBuckets.contains(value) { return .success(value) }
            if let seconds = Double(value), seconds >= 0, seconds.isFinite { return .success(Self.uptimeBucket(seconds: seconds)) }
            return .failure(.badValue(field: rawValue, value: raw, allowed: Self.uptimeBuckets + ["a number of seconds"]))
        case .serviceHealth: return oneOf(Self.healthValues)
        }
    }
}

package enum TelemetryError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case unknownField(String, allowed: [String])
    case badValue(field: String, value: String, allowed: [String])
    case badAssignment(String)
    case disabled
    case io(path: String, reason: String)
    case badOutput(path: String, reason: String)

    package var exitStatus: ExitStatus {
        switch self {
        case .io: return .checkFailed
        default: return .badInput
        }
    }

    package var description: String {
        switch self {
        case let .unknownField(name, allowed):
            return "telemetry field '\(name)' is not allowed (the allow-list is: \(allowed.joined(separator: ", ")))"
        case let .badValue(field, value, allowed):
            return "telemetry field \(field): '\(value)' is not one of \(allowed.joined(separator: ", "))"
        case let .badAssignment(text):
            return "'\(text)' is not FIELD=VALUE"
        case .disabled:
            return "telemetry is disabled: nothing was recorded (enable it with `unisonctl telemetry enable`)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .badOutput(path, reason):
            return "--output '\(path)': \(reason)"
        }
    }
}
