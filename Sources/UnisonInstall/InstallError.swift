import FoundationEssentials
import UnisonCore

/// Everything that can stop an install or uninstall, with the path or name that failed.
package enum InstallError: Error, CustomStringConvertible, Sendable, ExitCoded, Equatable {
    case unreadable(path: String, reason: String)
    case badManifest(path: String, reason: String)
    case unknownChannel(String, known: [String])
    case unknownModelPack(String, known: [String])
    case missingBinary(path: String)
    case badPath(String)
    case escapesRoot(path: String, root: String)
    case conflict(path: String, found: String, wanted: String)
    case ioFailed(path: String, operation: String, reason: String)
    case notInstalled(manifest: String)
    case badInstallManifest(path: String, reason: String)
    case missingDependency(what: String, fix: String)
    case unsafeEnv(path: String, problems: [String])
    case hostActionFailed(command: String, reason: String)

    package var exitStatus: ExitStatus {
        switch self {
        case .unsafeEnv, .missingDependency, .hostActionFailed, .ioFailed, .conflict: return .checkFailed
        default: return .badInput
        }
    }

    package var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read '\(path)': \(reason)"
        case let .badManifest(path, reason): return "release manifest '\(path)': \(reason)"
        case let .unknownChannel(name, known): return "unknown channel '\(name)' (the spec has: \(known.joined(separator: ", ")))"
        case let .unknownModelPack(name, known): return "unknown model pack '\(name)' (the spec has: \(known.joined(separator: ", ")))"
        case let .missingBinary(path): return "the unisonctl binary to install, '\(path)', does not exist (pass --unisonctl-binary PATH)"
        case let .badPath(path): return "install path '\(path)' must be absolute and contain no '.' or '..' components"
        case let .escapesRoot(path, root): return "'\(path)' resolves outside the install root '\(root)' (a symlink leads out)"
        case let .conflict(path, found, wanted): return "'\(path)' is a \(found) where the install needs a \(wanted); move it away and retry"
        case let .ioFailed(path, operation, reason): return "cannot \(operation) '\(path)': \(reason)"
        case let .notInstalled(manifest): return "nothing to uninstall: no install manifest at '\(manifest)'"
        case let .badInstallManifest(path, reason): return "install manifest '\(path)' is unreadable: \(reason)"
        case let .missingDependency(what, fix): return "\(what) is missing; \(fix)"
        case let .unsafeEnv(path, problems):
            return "the stack will not start while '\(path)' is unsafe:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        case let .hostActionFailed(command, reason): return "'\(command)' failed: \(reason)"
        }
    }
}
