import ArgumentParser
import FoundationEssentials
import Glibc
import UnisonCore
import UnisonOps
import UnisonSpec

struct PilotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pilot",
        abstract: "Pilot feedback: a report of how this machine installed, booted and runs, to send back.",
        subcommands: [Report.self]
    )

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Print the pilot report (schema unisonctl.pilot-report/v1); with --out, write it after showing it.",
            discussion: """
                The report holds the target and release, coarse hardware (cores, AVX, RAM and disk size classes, GPU \
                vendor), the install, answers and first-boot outcomes, each service's health, the model pack and whether \
                its models were verified, and the doctor's check names and levels. It holds no host name, user name, \
                address or secret. It is always printed first; --out writes it (mode 0600) after a yes on the terminal, \
                or at once with --yes. --diag also writes a redacted diag bundle beside it and names it in the report. \
                Nothing is uploaded: send the file(s) yourself (docs/pilot-guide.md).
                """)

        @Option(help: ArgumentHelp("Write the report to this file (after showing it).", valueName: "file"))
        var out: String?
        @Flag(help: "Also write a redacted diag bundle next to the report (needs --out).")
        var diag = false
        @Flag(help: "Write without asking.")
        var yes = false
        @Option(help: ArgumentHelp("What was installed (vm, iso, wsl, native, docker); default: the install's record.", valueName: "target"))
        var target: String?
        @Option(name: .long, help: ArgumentHelp("Report on an install staged in this directory (no live health checks).", valueName: "dir"))
        var root: String?
        @OptionGroup var specOptions: SpecOptions

        static let targets = ["vm", "iso", "wsl", "native", "docker"]

        func validate() throws {
            if diag, out == nil { throw ValidationError("--diag needs --out (the bundle is written beside the report)") }
            if let target, !Self.targets.contains(target) {
                throw ValidationError("--target \(target): one of \(Self.targets.joined(separator: ", "))")
            }
        }

        func run() async throws {
            let rootURL = URL(fileURLWithPath: root ?? "/")
            let spec = try InstalledSpec.require(specOptions, root: rootURL)
            let control = StackControl(spec: spec, root: rootURL)
            let doctor = Doctor(control: control).run()
            // Health is asked of the running stack only: a staged root has none.
            let health = rootURL.path == "/" ? HealthChecker(spec: spec, requestTimeout: 2, activeProfiles: control.activeProfiles).checkOnce() : nil
            var report = PilotReporter(spec: spec, root: rootURL).report(target: target, doctor: doctor, health: health)
            if diag, let out {
                let dir = URL(fileURLWithPath: out).deletingLastPathComponent()
                let result = try DiagBundle(control: control, options: DiagOptions(output: dir, hostName: "pilot")).write()
                report.diag = .init(file: URL(fileURLWithPath: result.bundle).lastPathComponent, sha256: result.sha256)
            }
            let text = try JSONOutput.string(report)
            print(text)
            guard let out else { return }
            if !yes {
                guard Terminal.isTTY(STDIN_FILENO) else {
                    throw ValidationError("not writing \(out): confirm on a terminal, or pass --yes after reading the report above")
                }
                FileIO.standardError.write("Write this report to \(out)? [y/N] ")
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                    FileIO.standardError.write("not written\n")
                    return
                }
            }
            try AtomicFile.write(Data((text + "\n").utf8), to: URL(fileURLWithPath: out), permissions: 0o600)
            FileIO.standardError.write("wrote \(out)\(report.diag.map { " and \($0.file)" } ?? "")\n")
        }
    }
}
