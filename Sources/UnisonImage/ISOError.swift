import FoundationEssentials
import UnisonCore

/// Problems specific to installer ISO builds (kernel lookup, sizes and filesystems report
/// `DiskError`, a failing external tool `ProcessError`).
package enum ISOError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case noISOTarget
    case unknownFirmware(String)
    case noFirmware
    case badSplitSize(Int64)
    /// The payload image cannot be used: missing, unreadable, not a disk image.
    case badPayload(path: String, detail: String)
    /// A boot file the ISO needs is not on the build host.
    case missingHostFile(what: String, path: String, package: String)

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case .noISOTarget: return "the spec has no targets.iso"
        case let .unknownFirmware(f): return "unknown firmware '\(f)' in targets.iso.firmware (use bios, uefi)"
        case .noFirmware: return "no firmware to boot the ISO with (targets.iso.firmware needs bios, uefi or both)"
        case let .badSplitSize(n): return "split size \(n) bytes: must be at least 1 MiB and below 4 GiB (ISO 9660 file size limit)"
        case let .badPayload(path, detail): return "payload image \(path): \(detail)"
        case let .missingHostFile(what, path, package):
            return "\(what) not found at \(path) (install it with: apt-get install \(package))"
        }
    }
}
