import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall
import UnisonOCI
import UnisonSpec

/// What a support bundle gathers, one collector per concern. Every collector reads through
/// `StackControl` (its root, its `ProcessRunner`), so tests point them at a staged root and a
/// scripted runner; a tool that is not installed is an answer ("missing"), not an error.
struct DiagCollectors: Sendable {
    var control: StackControl
    var options: DiagOptions
    var redaction: DiagRedaction

    var spec: PlatformSpec { control.spec }
    var layout: InstallLayout { control.layout }

    func all() -> [DiagCollector] {
        [
            DiagCollector(name: "versions") { versions() },
            DiagCollector(name: "spec") { specFile() },
            DiagCollector(name: "install") { install() },
            DiagCollector(name: "systemd") { systemd() },
            DiagCollector(name: "compose") { compose() },
            DiagCollector(name: "health") { health() },
            DiagCollector(name: "models") { models() },
            DiagCollector(name: "resources") { resources() },
            DiagCollector(name: "doctor") { doctor() },
        ]
    }

    func text(_ s: String) -> Data { Data(s.utf8) }

    /// The file's text when it could be read (no symlink followed; see `readFile`).
    func read(_ path: String) -> String? {
        if case let .text(t) = readFile(path) { return t }
        return nil
    }

    /// Runs a command and renders what it did; `missing` when its program is not installed.
    /// For real processes, coreutils `timeout` kills a command that outlives its share of the
    /// collector's deadline (collectors run at most two commands), so a hung tool is not left
    /// behind and its partial output is kept. KILL rather than TERM: a child can inherit a
    /// signal mask that blocks TERM from the thread that spawned it. A timed-out command shows
    /// as 124 or 137, or as 9 when `timeout` re-raised the KILL on itself.
    func capture(_ command: [String]) -> (text: String, missing: Bool, status: Int32?) {
        var out = "$ \(command.joined(separator: " "))\n"
        var run = command
        if control.runner is SystemProcessRunner {
            guard SystemProcessRunner.which(command[0]) != nil else {
                return (out + "not run: '\(command[0])' is not installed here\n", true, nil)
            }
            if SystemProcessRunner.which("timeout") != nil {
                run = ["timeout", "--signal=KILL", NumberText.fixed(max(0.5, options.collectorTimeout * 0.45), digits: 1)] + command
            }
        }
        do {
            let r = try control.runner.run(run)
            out += "exit status \(r.status)\(run.first == "timeout" && [124, 137, 9].contains(r.status) ? " (timed out)" : "")\n"
            if !r.stdout.isEmpty { out += "--- stdout\n" + r.stdoutString + (r.stdoutString.hasSuffix("\n") ? "" : "\n") }
            if !r.stderr.isEmpty { out += "--- stderr\n" + r.stderrString + (r.stderrString.hasSuffix("\n") ? "" : "\n") }
            return (out, false, r.status)
        } catch ProcessError.notFound {
            return (out + "not run: '\(command[0])' is not installed here\n", true, nil)
        } catch {
            return (out + "not run: \(error)\n", false, nil)
        }
    }

    func versions() -> DiagCollector.Output {
        var s = "unisonctl \(ToolVersion.current)\n"
        var u = utsname()
        if uname(&u) == 0 {
            func field<T>(_ value: T) -> String {
                withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            }
            s += "kernel \(field(u.sysname)) \(field(u.release)) \(field(u.version)) \(field(u.machine))\n"
        }
        let osRelease = options.osReleasePath ?? control.hostPath("/etc/os-release")
        var files: [(String, Data)] = []
        if let os = try? String(contentsOfFile: osRelease, encoding: .utf8) {
            files.append(("system/os-release", text(os)))
            let pretty = EnvFile.value(of: "PRETTY_NAME", in: os) ?? "unknown"
            s += "os \(pretty)\n"
        } else {
            s += "os unknown (no \(osRelease))\n"
        }
        files.append(("versions.txt", text(s)))
        return .init(status: .ok, detail: nil, files: files)
    }

    func specFile() -> DiagCollector.Output {
        let installed = control.hostPath(layout.specCopy)
        let url = options.specFile ?? (FileManager.default.fileExists(atPath: installed) ? URL(fileURLWithPath: installed) : nil)
        var files: [(String, Data)] = []
        if let url,
            case let .text(content) = Self.readFile(
                root: options.specFile == nil ? control.root : URL(fileURLWithPath: "/"),
                hostPath: url.path)
        {
            files.append(("spec/unison.yaml", redaction.scrub(Data(content.utf8))))
        }
        if let json = try? JSONOutput.encoder().encode(spec) {
            files.append(("spec/spec.json", redaction.scrub(json)))
        }
        return .init(status: .ok, detail: url.map { "from \($0.path)" } ?? "no spec file; the normalized spec only", files: files)
    }

    func install() -> DiagCollector.Output {
        var files: [(String, Data)] = []
        var notes: [String] = []
        let envRead = readFile(layout.envFile)
        if case let .text(env) = envRead {
            files.append(("install/platform.env.redacted", text(redaction.redactEnv(env))))
        } else if let note = envRead.note(layout.envFile) {
            notes.append(note)
        }
        // The mode and owner say much about a failed start, and need no read permission.
        var st = stat()
        if lstat(control.hostPath(layout.envFile), &st) == 0 {
            files.append(
                (
                    "install/platform.env.stat",
                    text("mode \(String(UInt32(st.st_mode) & 0o7777, radix: 8)) uid \(st.st_uid) gid \(st.st_gid) size \(st.st_size)\n")
                ))
        }
        for (path, name) in [
            (layout.releaseRecord, "release.json"), (layout.firstBootStamp, "firstboot-state.json"),
            (layout.composeFile, "compose.yaml"), (layout.manifest, "install-manifest.json"),
        ] {
            let result = readFile(path)
            if case let .text(content) = result { files.append(("install/\(name)", redaction.scrub(text(content)))) }
            if let note = result.note(path) { notes.append(note) }
        }
        if !notes.isEmpty { files.append(("install/not-collected.txt", text(notes.joined(separator: "\n") + "\n"))) }
        return .init(status: .ok, detail: notes.isEmpty ? nil : notes.joined(separator: "; "), files: files)
    }

    func systemd() -> DiagCollector.Output {
        let status = capture(["systemctl", "status", "--no-pager", "--lines=0", layout.unit, layout.firstBootUnit])
        let journal = capture(["journalctl", "--no-pager", "--lines", "500", "--unit", layout.unit, "--unit", layout.firstBootUnit])
        let files = [("systemd/status.txt", text(status.text)), ("systemd/journal.txt", text(journal.text))]
        if status.missing || journal.missing {
            return .init(status: .missing, detail: "systemctl or journalctl is not installed here", files: files)
        }
        return .init(status: .ok, detail: control.systemdRunning ? nil : "systemd is not running here", files: files)
    }

    func compose() -> DiagCollector.Output {
        let ps = capture(control.compose + ["ps", "--all"])
        if ps.missing {
            return .init(status: .missing, detail: "docker is not installed here", files: [("compose/ps.txt", text(ps.text))])
        }
        let logs = capture(control.compose + ["logs", "--no-color", "--timestamps", "--tail", "300"])
        return .init(
            status: ps.status == 0 ? .ok : .failed, detail: ps.status == 0 ? nil : "docker compose ps exited \(ps.status.map(String.init) ?? "-")",
            files: [("compose/ps.txt", text(ps.text)), ("compose/logs.txt", text(logs.text))])
    }

    func health() -> DiagCollector.Output {
        let docker: (any ContainerHealthSource)? =
            (try? control.requireDocker()) == nil
            ? nil
            : ComposeHealthSource(runner: control.runner, composeFile: control.hostPath(layout.composeFile))
        // Services whose compose profile is off are not running: listed as skipped, not polled.
        let report = HealthChecker(spec: spec, requestTimeout: 2, containerHealth: docker, activeProfiles: control.activeProfiles).checkOnce()
        guard let json = try? JSONOutput.encoder().encode(report) else { return .init(status: .failed, detail: "cannot encode", files: []) }
        let skipped = report.skipped.isEmpty ? "" : "; " + report.skipped.map { "\($0.name) \($0.reason)" }.joined(separator: ", ")
        return .init(status: .ok, detail: (report.healthy ? "all healthy" : "not all healthy") + skipped, files: [("health.json", json)])
    }

    func models() -> DiagCollector.Output {
        let store = control.hostPath(spec.models.store)
        var isDir = false
        guard FileManager.default.fileExists(atPath: store, isDirectory: &isDir), isDir else {
            return .init(
                status: .ok, detail: "no model store at \(spec.models.store)",
                files: [("models/verify.txt", text("no model store at \(spec.models.store)\n"))])
        }
        do {
            let report = try ModelStore(root: URL(fileURLWithPath: store)).verify()
            return .init(
                status: .ok, detail: report.ok ? "\(report.models.count) models intact" : "\(report.problems.count) problems",
                files: [("models/verify.json", try JSONOutput.encoder().encode(report))])
        } catch {
            return .init(status: .failed, detail: "\(error)", files: [("models/verify.txt", text("verify failed: \(error)\n"))])
        }
    }

    func resources() -> DiagCollector.Output {
        var s = ""
        for path in Array(Set(["/", layout.dataDir, layout.prefix, spec.models.store])).sorted() {
            var dir = control.hostPath(path)
            while !FileManager.default.fileExists(atPath: dir), dir != "/" { dir = PathText.parent(dir) }
            var st = statvfs()
            if statvfs(dir, &st) == 0 {
                let total = Int64(st.f_blocks) * Int64(st.f_frsize), free = Int64(st.f_bavail) * Int64(st.f_frsize)
                s += "\(path): \(ProgressReporter.formatBytes(free)) free of \(ProgressReporter.formatBytes(total)) (measured at \(dir))\n"
            } else {
                s += "\(path): statvfs failed: \(String(cString: strerror(errno)))\n"
            }
        }
        var files: [(String, Data)] = [("system/disk.txt", text(s))]
        if let mem = try? String(contentsOfFile: options.memInfoPath, encoding: .utf8) { files.append(("system/meminfo.txt", text(mem))) }
        if let up = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8) { files.append(("system/uptime.txt", text(up))) }
        return .init(status: .ok, detail: nil, files: files)
    }

    func doctor() -> DiagCollector.Output {
        let report = Doctor(control: control, memInfoPath: options.memInfoPath).run()
        guard let json = try? JSONOutput.encoder().encode(report) else { return .init(status: .failed, detail: "cannot encode", files: []) }
        return .init(status: .ok, detail: "\(report.errors) errors, \(report.warnings) warnings", files: [("doctor.json", json)])
    }
}
