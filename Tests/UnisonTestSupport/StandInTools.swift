import Foundation

/// Stand-in `docker` and `systemctl` executables in a directory put first on PATH for CLI tests:
/// each logs its argv (one line per call, arguments separated by tabs) and answers like the real
/// tool would on a host with Docker, the compose plugin and a running engine (`engineUp: false`:
/// `docker info` fails as with a stopped daemon).
package struct StandInTools: Sendable {
    package let dir: URL
    package var bin: URL { dir.appendingPathComponent("bin") }
    package var log: URL { dir.appendingPathComponent("calls.log") }

    package init(engineUp: Bool = true) throws {
        dir = try TempDir.create("stand-in")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let record = """
            #!/bin/sh
            { printf '%s' "$(basename "$0")"; for a in "$@"; do printf '\\t%s' "$a"; done; printf '\\n'; } >> '\(log.path)'

            """
        let docker =
            record + """
                case "$1" in
                  --version) echo "Docker version 27.0.0, build standin"; exit 0 ;;
                  info) \(engineUp ? "echo 27.0.0; exit 0" : "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' >&2; exit 1") ;;
                  compose) ;;
                  *) echo "stand-in docker: unexpected $1" >&2; exit 64 ;;
                esac
                for a in "$@"; do last=$a; done
                case " $* " in
                  *" compose version "*) echo "Docker Compose version v2.29.0" ;;
                  *" ps "*) printf 'NAME STATUS\\nunison-auth-1 running\\n' ;;
                  *" logs "*) echo "auth-1  | stand-in log line for $last" ;;
                  *" config "*) ;;
                  *" up "* | *" down"*) echo "stand-in compose: $*" >&2 ;;
                esac
                exit 0

                """
        let systemctl =
            record + """
                case "$1" in
                  status) echo "unison-platform.service - stand-in"; exit 3 ;;
                  is-enabled) echo enabled ;;
                  is-active) echo active ;;
                esac
                exit 0

                """
        for (name, text) in [("docker", docker), ("systemctl", systemctl), ("journalctl", record + "echo stand-in journal\n")] {
            let url = bin.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            chmod(url.path, 0o755)
        }
    }

    /// PATH with the stand-ins first.
    package var environment: [String: String] {
        ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
    }

    /// Every call so far, as argv arrays (the tool's name first).
    package func calls() -> [[String]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    package func reset() { try? FileManager.default.removeItem(at: log) }
    package func cleanup() { try? FileManager.default.removeItem(at: dir) }
}
