import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonOps
import UnisonSpec

struct AnswersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answers",
        abstract: "Answers for unattended installs and first boot: check a file, or apply one.",
        discussion: """
            An answers file is a #cloud-config document (the same file serves a CIDATA medium, cloud-init \
            user-data and the ISO): hostname, users (hashed_passwd and/or ssh_authorized_keys; plain passwords \
            are refused), ssh_pwauth, locale, keyboard, timezone, and under unison: ssh-server, disk (ISO), \
            model-pack, network (dhcp or static) and telemetry. See docs/pilot-guide.md.
            """,
        subcommands: [Check.self, Apply.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check an answers file; print every problem as file:line:column and exit 2 if there is any.")

        @Argument(help: ArgumentHelp("The answers file.", valueName: "file"))
        var file: String
        @Option(help: ArgumentHelp("Check for this target (vm, wsl, iso); the ISO needs unison.disk.", valueName: "target"))
        var target: String?
        @Option(
            name: .customLong("disk-present"),
            help: ArgumentHelp("A disk present on the machine (repeatable); unison.disk must be one of them.", valueName: "device"))
        var disksPresent: [String] = []
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func validate() throws {
            if let target, Answers.Target(rawValue: target) == nil {
                throw ValidationError("--target \(target): one of \(Answers.Target.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            // The pack names come from the spec when one is found; without one they are not checked.
            let packs = InstalledSpec.load(specOptions)?.models.packs.map(\.name)
            let context = AnswersLoader.Context(
                target: target.flatMap(Answers.Target.init(rawValue:)), packs: packs,
                presentDisks: disksPresent.isEmpty ? nil : disksPresent)
            let url = URL(fileURLWithPath: file)
            do {
                let answers = try AnswersLoader.load(file: url, context: context)
                if output.json {
                    try Output.json(AnswersCheckReport(file: file, valid: true, diagnostics: [], answers: AnswersSummary(answers)))
                } else {
                    let s = AnswersSummary(answers)
                    print(
                        "\(file): ok (hostname \(s.hostname ?? "unchanged"), users \(s.users.isEmpty ? "none" : s.users.joined(separator: ", ")), "
                            + "ssh server \(answers.sshServer ? "on" : "off"), network \(s.network)\(answers.disk.map { ", disk \($0)" } ?? ""))")
                }
            } catch let error as SpecError {
                if output.json {
                    try Output.json(AnswersCheckReport(file: file, valid: false, diagnostics: error.diagnostics, answers: nil))
                } else {
                    AnswersOutput.printDiagnostics(error)
                }
                throw ExitCode(ExitStatus.badInput.rawValue)
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Apply answers to this system or a root: user, hostname, SSH server, locale, keyboard, time zone, network, pack, telemetry.",
            discussion: """
                Without --file, answers are looked for as first boot does: unison.answers=PATH on the kernel command \
                line, a medium labelled CIDATA (unison-answers.yaml or user-data), cloud-init's NoCloud seed \
                (/var/lib/cloud/seed/nocloud/user-data), then /etc/unison/answers.yaml. With none, the instructions \
                for providing them are put before the console login prompt; no default password is ever set.
                Exit status: 0 applied, 1 none found or applying failed, 2 bad arguments.
                """)

        @Option(help: ArgumentHelp("Apply this file instead of looking for one.", valueName: "file"))
        var file: String?
        @Option(name: .long, help: ArgumentHelp("Apply to a system staged in this directory.", valueName: "dir"))
        var root: String?
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let rootURL = URL(fileURLWithPath: root ?? "/")
            let json = output.json
            let report = try Provisioning.run(
                root: rootURL, file: file, spec: InstalledSpec.load(specOptions, root: rootURL),
                log: { if !json { FileIO.standardError.write("answers: \($0)\n") } })
            if json {
                try Output.json(report)
            } else if !report.applied, report.source == nil {
                print(Provisioner.instructions)
            }
            if !report.applied { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }
}

/// Finding and applying answers, shared by `answers apply` and `firstboot`.
enum Provisioning {
    static func run(root: URL, file: String?, spec: PlatformSpec?, log: @escaping @Sendable (String) -> Void) throws -> ProvisionReport {
        let found: AnswersLocator.Found?
        if let file {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("--file \(file): not readable as UTF-8 text")
            }
            found = AnswersLocator.Found(source: AnswersSource(kind: .installed, path: file), text: text)
        } else {
            let live = root.path == "/"
            let cmdline = live ? (try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) : nil
            found = try AnswersLocator(root: root, cmdline: cmdline, media: live ? BlockDeviceMounter() : NoMedia()).find()
        }
        return Provisioner(root: root, spec: spec, log: log).run(found: found)
    }
}

/// What `answers check --json` prints.
struct AnswersCheckReport: Encodable {
    var schema = "unisonctl.answers-check/v1"
    var file: String
    var valid: Bool
    var diagnostics: [SpecDiagnostic]
    var answers: AnswersSummary?
}

/// The answers without secrets: no hashes, keys only counted.
struct AnswersSummary: Encodable {
    var hostname: String?
    var users: [String]
    var sshKeys: Int
    var sshServer: Bool
    var sshPasswordLogin: Bool
    var locale: String?
    var keyboard: String?
    var timezone: String?
    var disk: String?
    var modelPack: String?
    var network: String
    var telemetry: Bool

    init(_ a: Answers) {
        hostname = a.hostname
        users = a.users.map(\.name)
        sshKeys = a.users.reduce(0) { $0 + $1.sshKeys.count }
        sshServer = a.sshServer
        sshPasswordLogin = a.sshPasswordLogin
        locale = a.locale
        keyboard = a.keyboard?.layout
        timezone = a.timezone
        disk = a.disk
        modelPack = a.modelPack
        if case let .static(s) = a.network { network = "static \(s.address)" } else { network = "dhcp" }
        telemetry = a.telemetry
    }
}

enum AnswersOutput {
    static func printDiagnostics(_ error: SpecError) {
        let text =
            error.diagnostics.map { d in
                "\(d.file):\(d.line):\(d.column): error: \(d.message)" + (d.hint.map { "\n    hint: \($0)" } ?? "")
            }.joined(separator: "\n") + "\n\(error.diagnostics.count) problem\(error.diagnostics.count == 1 ? "" : "s") in the answers file\n"
        FileIO.standardError.write(text)
    }
}
