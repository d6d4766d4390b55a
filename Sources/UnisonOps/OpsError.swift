import UnisonCore

/// Why an operation on the installed stack could not run, in words a person can act on.
package enum OpsError: Error, CustomStringConvertible, Sendable, ExitCoded, Equatable {
    case dockerMissing
    case composePluginMissing(detail: String)
    case notInstalled(path: String)
    case unsafeEnv(path: String, problems: [String])
    case commandFailed(command: String, status: Int32, stderr: String)
    case unknownService(String, known: [String])

    package var exitStatus: ExitStatus {
        switch self {
        case .unknownService: return .badInput
        default: return .checkFailed
        }
    }

    package var description: String {
        switch self {
        case .dockerMissing:
            return
                "Docker is not installed: 'docker' was not found on PATH. Install Docker Engine and the compose plugin (apt-get install docker.io docker-compose-plugin, or https://docs.docker.com/engine/install/), then retry; `unisonctl doctor` checks the rest"
        case let .composePluginMissing(detail):
            return
                "the Docker compose plugin is missing: 'docker compose version' failed\(detail.isEmpty ? "" : " (\(detail))"). Install it (apt-get install docker-compose-plugin), then retry"
        case let .notInstalled(path):
            return "the platform is not installed here: '\(path)' does not exist (run `unisonctl install native`)"
        case let .unsafeEnv(path, problems):
            return "refusing to start the stack while '\(path)' is unsafe:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
                + "\n  fix: edit the file, or run \(path.hasPrefix("/") ? "" : "")/opt/unison-platform/bin/unison-env seed to generate the placeholders"
        case let .commandFailed(command, status, stderr):
            let tail = stderr.split(separator: "\n").suffix(6).joined(separator: "\n")
            return "'\(command)' exited with status \(status)" + (tail.isEmpty ? "" : ":\n\(tail)")
        case let .unknownService(name, known):
            return "unknown service '\(name)' (the spec has: \(known.joined(separator: ", ")))"
        }
    }
}
