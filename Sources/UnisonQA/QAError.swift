import FoundationEssentials
import UnisonCore

/// Failures of the QA harness: bad input (exit 2) or a check that did not pass (exit 1).
package enum QAError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case imageNotFound(String)
    case notADiskImage(path: String, detail: String)
    case firmwareNotFound(firmware: String, looked: [String])
    case toolNotFound(String)
    case badOption(String)
    /// The marker did not appear: timed out or QEMU stopped first.
    case markerNotSeen(marker: String, reason: String, consoleTail: [String])
    /// `qa boot --smoke`: the marker appeared but the guest's services could not be reached.
    case smokeUnreachable(detail: String)

    package var exitStatus: ExitStatus {
        switch self {
        case .markerNotSeen, .smokeUnreachable: return .checkFailed
        default: break
        }
        return .badInput
    }

    package var description: String {
        switch self {
        case let .imageNotFound(p): return "disk image '\(p)' does not exist or cannot be read"
        case let .notADiskImage(p, d): return "'\(p)' is not a usable disk image: \(d)"
        case let .firmwareNotFound(f, looked):
            return "no \(f) firmware found (looked for \(looked.joined(separator: ", "))); install it with: apt-get install ovmf"
        case let .toolNotFound(t): return "'\(t)' was not found on PATH (install it with: apt-get install qemu-system-x86)"
        case let .badOption(text): return text
        case let .smokeUnreachable(detail): return "smoke after boot failed: \(detail)"
        case let .markerNotSeen(marker, reason, tail):
            let body = tail.isEmpty ? "(the serial console stayed empty)" : tail.map { "  | \($0)" }.joined(separator: "\n")
            return "boot check failed: '\(marker)' did not appear on the serial console: \(reason)\nlast console lines:\n\(body)"
        }
    }
}
