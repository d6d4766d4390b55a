import FoundationEssentials
import UnisonCore

/// Problems of VM disk builds, and the artifact version every target checks (format, sizes and filesystems report `DiskError`).
package enum VMError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case badVersion(String)
    case noFormats
    case badDiskSize(Int64, reason: String)
    case noVMTarget

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .badVersion(v): return "version '\(v)' cannot be used in an artifact name (letters, digits, '.', '_', '+', '-')"
        case .noFormats: return "no disk format to write (choose from qcow2, vmdk, raw)"
        case let .badDiskSize(size, reason): return "disk size \(size) bytes: \(reason)"
        case .noVMTarget: return "the spec has no targets.vm"
        }
    }
}
