import FoundationEssentials
import Glibc
import UnisonCore
import UnisonInstall
import UnisonSpec

/// Why answers could not be read or applied.
package enum ProvisionError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case unreadable(path: String, reason: String)
    case io(path: String, reason: String)
    case existingSystemUser(String)

    package var exitStatus: ExitStatus { .checkFailed }
    package var description: String {
        switch self {
        case let .unreadable(path, reason): return "answers \(path): \(reason)"
        case let .io(path, reason): return "cannot write \(path): \(reason)"
        case let .existingSystemUser(name): return "user '\(name)' already exists as a system account (uid below 1000); refusing to change it"
        }
    }
}

/// What applying answers did (no secrets: hashes and keys are never echoed).
package struct ProvisionReport: Sendable, Codable, Equatable {
    package var schema = "unisonctl.provision/v1"
    package var source: AnswersSource?
    package var steps: [FirstBootStep]
    /// True when answers were applied; false when none were found (first boot then prints how
    /// to provide them) or applying failed.
    package var applied: Bool
}

/// Applies answers to a root (`/` at first boot, or an image tree being installed onto). Every
/// value was validated by `AnswersLoader` and is written as data into files (passwd, shadow,
/// group, hostname, authorized_keys, sshd and locale configuration); no value reaches a shell.
/// Only two programs run, with fixed arguments and only on a live system: `ssh-keygen -A` (host
/// keys unique to this machine) and `systemctl enable|disable --now ssh.service`.
package struct Provisioner: Sendable {
    package var root: URL
    package var spec: PlatformSpec?
    /// True on a running system (root `/`): start or stop sshd and make its host keys.
    package var live: Bool
    package var runner: any ProcessRunner
    package var log: @Sendable (String) -> Void

    package init(
        root: URL, spec: PlatformSpec?, live: Bool? = nil, runner: any ProcessRunner = SystemProcessRunner(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.root = root
        self.spec = spec
        self.live = live ?? (root.path == "/")
        self.runner = runner
        self.log = log
    }

    /// The login hint shown on the console (`/etc/issue.d`) while no user exists.
    package static let issuePath = HostScripts.loginIssuePath
    /// What answers were applied from, kept for `pilot report` (source kind and outcome only).
    package static let recordPath = "/var/lib/unison/provision.json"
    package static let sshdDropIn = "/etc/ssh/sshd_config.d/50-unison.conf"

    /// The text printed on the console and put before the login prompt when no answers exist:
    /// how to provide them. There is no default password to print. The shell first-boot
    /// fallback shares it (UnisonInstall's `HostScripts`).
    package static let instructions = HostScripts.answersInstructions

    func host(_ path: String) -> URL { root.appendingPathComponent(String(path.drop(while: { $0 == "/" }))) }

    /// Applies `found`, or shows the instructions when nothing was found.
    package func run(found: AnswersLocator.Found?, sourceFile: String? = nil) -> ProvisionReport {
        var report = ProvisionReport(source: found?.source, steps: [], applied: false)
        func note(_ name: String, _ detail: String, _ status: FirstBootStep.Status = .ok) {
            report.steps.append(FirstBootStep(name: name, status: status, detail: detail))
            log("\(name): \(detail)")
        }
        guard let found else {
            let regularUser = hasRegularUser
            if regularUser || FileManager.default.fileExists(atPath: host("/etc/wsl-distribution.conf").path) {
                // A user exists already, or WSL's first launch asks for one (its OOBE script).
                note("answers", regularUser ? "none found; a user exists already" : "none found; WSL's first launch creates the user", .skipped)
                record(report)
                return report
            }
            do {
                try write(Self.issuePath, Self.instructions + "\n\n", mode: 0o644)
                note("answers", "none found; how to provide them is on the console and before the login prompt", .skipped)
            } catch {
                note("answers", "none found, and \(error)", .failed)
            }
            record(report)
            return report
        }
        log("answers: \(found.source)")
        let answers: Answers
        do {
            answers = try AnswersLoader.load(
                text: found.text, file: sourceFile ?? found.source.path,
                context: .init(packs: spec?.models.packs.map(\.name)))
        } catch {
            note("answers", "\(found.source): \(error)", .failed)
            hintIfNoUser("The answers in \(found.source) could not be applied: \(error)")
            record(report)
            return report
        }
        do {
            try apply(answers, note: note)
            try? FileManager.default.removeItem(at: host(Self.issuePath))
            report.applied = true
        } catch {
            note("answers", "\(error)", .failed)
            hintIfNoUser("The answers in \(found.source) could not be applied: \(error)")
        }
        record(report)
        return report
    }

    var hasRegularUser: Bool {
        Self.table(readText("/etc/passwd")).contains { $0.count > 2 && (Int($0[2]) ?? 0) >= 1000 && (Int($0[2]) ?? 0) < 60000 }
    }

    /// Answers that failed must not leave a machine with no way in and no word why: while no
    /// person's account exists, the reason and the instructions go before the login prompt.
    func hintIfNoUser(_ reason: String) {
        guard !hasRegularUser else { return }
        // agetty expands backslash escapes in issue files; the reason may quote the file's text.
        let plain = String(String.UnicodeScalarView(reason.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" ? " " : $0 }))
        try? write(Self.issuePath, plain + "\n" + Self.instructions + "\n\n", mode: 0o644)
    }

    func record(_ report: ProvisionReport) {
        guard let data = try? JSONOutput.encoder().encode(report) else { return }
        try? FileManager.default.createDirectory(at: host(Self.recordPath).deletingLastPathComponent(), withIntermediateDirectories: true)
        try? AtomicFile.write(data + Data("\n".utf8), to: host(Self.recordPath), permissions: 0o600)
    }

    /// Applies each answer; throws on the first file that cannot be written.
    package func apply(_ answers: Answers, note: (String, String, FirstBootStep.Status) -> Void) throws {
        if let hostname = answers.hostname {
            precondition(AnswerRules.isHostname(hostname))
            try write("/etc/hostname", hostname + "\n", mode: 0o644)
            try setHostsEntry(hostname)
            if live { _ = try? runner.run(["hostname", hostname]) }
            note("hostname", hostname, .ok)
        }
        for user in answers.users {
            try addUser(user)
            note(
                "user",
                "\(user.name): \(user.passwordHash == nil ? "no password (keys only)" : "password hash"), "
                    + "\(user.sshKeys.count) SSH key\(user.sshKeys.count == 1 ? "" : "s")\(user.sudo ? ", administrator" : "")", .ok)
        }
        try configureSSH(answers, note: note)
        if let locale = answers.locale {
            try write("/etc/default/locale", "LANG=\(locale)\n", mode: 0o644)
            note("locale", locale, .ok)
        }
        if let keyboard = answers.keyboard {
            try write(
                "/etc/default/keyboard",
                """
                # Written by unisonctl from the answers file.
                XKBMODEL="pc105"
                XKBLAYOUT="\(keyboard.layout)"
                XKBVARIANT="\(keyboard.variant ?? "")"
                XKBOPTIONS=""
                BACKSPACE="guess"

                """, mode: 0o644)
            note("keyboard", keyboard.layout + (keyboard.variant.map { " (\($0))" } ?? ""), .ok)
        }
        if let tz = answers.timezone {
            let zone = "/usr/share/zoneinfo/" + tz
            try write("/etc/timezone", tz + "\n", mode: 0o644)
            let link = host("/etc/localtime")
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: zone)
            let exists = FileManager.default.fileExists(atPath: host(zone).path)
            note(
                "timezone", tz + (exists ? "" : " (no \(zone) in this system: tzdata is not installed, so it reads as UTC)"), exists ? .ok : .skipped)
        }
        try configureNetwork(answers.network, note: note)
        if let pack = answers.modelPack, let spec {
            try setEnvValue("UNISON_MODEL_PACK", pack, envFile: InstallLayout(spec: spec).envFile)
            note("model-pack", pack, .ok)
        }
        if let spec {
            do {
                _ = try TelemetryStore(spec: spec, root: root).setEnabled(answers.telemetry)
                note("telemetry", answers.telemetry ? "opted in (local files only)" : "off", .ok)
            } catch {
                note("telemetry", "\(error)", .failed)
            }
        }
    }

    // MARK: files

    func write(_ path: String, _ text: String, mode: Int) throws {
        let url = host(path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(Data(text.utf8), to: url, permissions: mode)
        } catch {
            throw ProvisionError.io(path: path, reason: "\(error)")
        }
    }

    func readText(_ path: String) -> String { (try? String(contentsOf: host(path), encoding: .utf8)) ?? "" }

    func setHostsEntry(_ hostname: String) throws {
        var lines = readText("/etc/hosts").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let entry = "127.0.1.1\t\(hostname)"
        if let i = lines.firstIndex(where: { $0.hasPrefix("127.0.1.1") }) {
            lines[i] = entry
        } else {
            if !lines.contains(where: { $0.hasPrefix("127.0.0.1") }) { lines.insert("127.0.0.1\tlocalhost", at: 0) }
            lines.append(entry)
        }
        try write("/etc/hosts", lines.joined(separator: "\n") + "\n", mode: 0o644)
    }

    func setEnvValue(_ key: String, _ value: String, envFile: String) throws {
        var lines = readText(envFile).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines.removeAll { $0.hasPrefix(key + "=") }
        lines.append("\(key)=\(value)")
        try write(envFile, lines.joined(separator: "\n") + "\n", mode: 0o600)
    }

    // MARK: users

    /// passwd/group/shadow entries appended as text (the files' own formats), the home with
    /// its `.ssh/authorized_keys` owned by the user. An existing regular user (uid ≥ 1000) gets
    /// the keys and hash; an existing system account is refused.
    func addUser(_ user: Answers.User) throws {
        precondition(AnswerRules.isUserName(user.name) && !AnswerRules.reservedUsers.contains(user.name))
        let passwd = Self.table(readText("/etc/passwd"))
        let group = Self.table(readText("/etc/group"))
        var uid: Int
        var gid: Int
        let home = "/home/\(user.name)"
        if let existing = passwd.first(where: { $0.first == user.name }), existing.count >= 7 {
            uid = Int(existing[2]) ?? -1
            gid = Int(existing[3]) ?? -1
            guard uid >= 1000 else { throw ProvisionError.existingSystemUser(user.name) }
        } else {
            let usedUIDs = Set(passwd.compactMap { $0.count > 2 ? Int($0[2]) : nil })
            let usedGIDs = Set(group.compactMap { $0.count > 2 ? Int($0[2]) : nil })
            uid = 1000
            while usedUIDs.contains(uid) || usedGIDs.contains(uid) { uid += 1 }
            gid = uid
            let shell = FileManager.default.fileExists(atPath: host("/bin/bash").path) ? "/bin/bash" : "/bin/sh"
            try append("/etc/passwd", "\(user.name):x:\(uid):\(gid)::\(home):\(shell)", mode: 0o644)
            try append("/etc/group", "\(user.name):x:\(gid):", mode: 0o644)
            if FileManager.default.fileExists(atPath: host("/etc/gshadow").path) {
                try append("/etc/gshadow", "\(user.name):!::", mode: 0o640)
            }
        }
        // shadow: the hash, or `*` (no password login; unlike `!`, sshd still takes keys).
        let days = Int(Date().timeIntervalSince1970 / 86_400)
        var shadow = readText("/etc/shadow").split(separator: "\n").map(String.init)
        shadow.removeAll { $0.hasPrefix(user.name + ":") }
        shadow.append("\(user.name):\(user.passwordHash ?? "*"):\(days):0:99999:7:::")
        try write("/etc/shadow", shadow.joined(separator: "\n") + "\n", mode: 0o640)
        if user.sudo {
            try addToGroup("sudo", user: user.name)
            if user.passwordHash == nil {
                // No password to type at sudo's prompt: the way cloud-init's default user works.
                try write("/etc/sudoers.d/90-unison-\(user.name)", "\(user.name) ALL=(ALL) NOPASSWD:ALL\n", mode: 0o440)
            }
        }
        let fm = FileManager.default
        let homeURL = host(home)
        try fm.createDirectory(at: homeURL, withIntermediateDirectories: true)
        try own(homeURL, uid: uid, gid: gid, mode: 0o750)
        if let skel = try? fm.contentsOfDirectory(atPath: host("/etc/skel").path) {
            for name in skel where !fm.fileExists(atPath: homeURL.appendingPathComponent(name).path) {
                let source = host("/etc/skel").appendingPathComponent(name)
                // A regular file itself, not through a symlink (URL's isRegularFileKey, from lstat).
                var st = stat()
                guard lstat(source.path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
                try fm.copyItem(at: source, to: homeURL.appendingPathComponent(name))
                try own(homeURL.appendingPathComponent(name), uid: uid, gid: gid, mode: 0o644)
            }
        }
        if !user.sshKeys.isEmpty {
            let ssh = homeURL.appendingPathComponent(".ssh")
            try fm.createDirectory(at: ssh, withIntermediateDirectories: true)
            try own(ssh, uid: uid, gid: gid, mode: 0o700)
            let keysURL = ssh.appendingPathComponent("authorized_keys")
            for key in user.sshKeys { precondition(AnswerRules.sshKeyProblem(key) == nil) }
            try AtomicFile.write(Data((user.sshKeys.joined(separator: "\n") + "\n").utf8), to: keysURL, permissions: 0o600)
            try own(keysURL, uid: uid, gid: gid, mode: 0o600)
        }
    }

    func own(_ url: URL, uid: Int, gid: Int, mode: Int) throws {
        do {
            try FileManager.default.setAttributes(
                [.ownerAccountID: uid, .groupOwnerAccountID: gid, .posixPermissions: mode],
                ofItemAtPath: url.path)
        } catch {
            throw ProvisionError.io(path: url.path, reason: "cannot set owner \(uid):\(gid) and mode: \(error)")
        }
    }

    func append(_ path: String, _ line: String, mode: Int) throws {
        var text = readText(path)
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        try write(path, text + line + "\n", mode: mode)
    }

    func addToGroup(_ groupName: String, user: String) throws {
        var lines = readText("/etc/group").split(separator: "\n").map(String.init)
        guard let i = lines.firstIndex(where: { $0.hasPrefix(groupName + ":") }) else { return }
        var fields = lines[i].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4 else { return }
        var members = fields[3].split(separator: ",").map(String.init)
        guard !members.contains(user) else { return }
        members.append(user)
        fields[3] = members.joined(separator: ",")
        lines[i] = fields.joined(separator: ":")
        try write("/etc/group", lines.joined(separator: "\n") + "\n", mode: 0o644)
    }

    static func table(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }

    // MARK: network

    static let networkFile = "/etc/systemd/network/10-unison.network"
    static let networkdUnitPaths = ["/lib/systemd/system/systemd-networkd.service", "/usr/lib/systemd/system/systemd-networkd.service"]

    /// A systemd-networkd file for the wired interfaces (DHCP, or the static address), and
    /// networkd enabled: the base configures no network of its own.
    func configureNetwork(_ network: Answers.Network, note: (String, String, FirstBootStep.Status) -> Void) throws {
        var text = "# Written by unisonctl from the answers file.\n[Match]\n"
        let detail: String
        switch network {
        case .dhcp:
            text += "Name=en* eth*\n\n[Network]\nDHCP=yes\n"
            detail = "DHCP on the wired interfaces"
        case let .static(s):
            text += "Name=\(s.interface ?? "en* eth*")\n\n[Network]\nAddress=\(s.address)\n"
            if let gw = s.gateway { text += "Gateway=\(gw)\n" }
            for dns in s.dns { text += "DNS=\(dns)\n" }
            detail = "static \(s.address) on \(s.interface ?? "the wired interfaces")"
        }
        try write(Self.networkFile, text, mode: 0o644)
        let fm = FileManager.default
        guard let unit = Self.networkdUnitPaths.first(where: { fm.fileExists(atPath: host($0).path) }) else {
            note("network", detail + " written, but systemd-networkd is not in this system", .skipped)
            return
        }
        let wants = host("/etc/systemd/system/multi-user.target.wants/systemd-networkd.service")
        try fm.createDirectory(at: wants.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? fm.removeItem(at: wants)
        try fm.createSymbolicLink(atPath: wants.path, withDestinationPath: unit)
        if live {
            _ = try? runner.run(["systemctl", "enable", "--now", "systemd-networkd.service"])
            _ = try? runner.run(["networkctl", "reload"])
        }
        note("network", detail + " (systemd-networkd)", .ok)
    }

    // MARK: ssh

    static let sshUnit = "ssh.service"
    static let sshUnitPaths = ["/lib/systemd/system/ssh.service", "/usr/lib/systemd/system/ssh.service"]

    func configureSSH(_ answers: Answers, note: (String, String, FirstBootStep.Status) -> Void) throws {
        let fm = FileManager.default
        let wants = host("/etc/systemd/system/multi-user.target.wants/\(Self.sshUnit)")
        let mask = host("/etc/systemd/system/\(Self.sshUnit)")
        let unit = Self.sshUnitPaths.first { fm.fileExists(atPath: host($0).path) }
        if answers.sshServer {
            try write(
                Self.sshdDropIn,
                """
                # Written by unisonctl from the answers file.
                PermitRootLogin no
                PubkeyAuthentication yes
                PasswordAuthentication \(answers.sshPasswordLogin ? "yes" : "no")
                KbdInteractiveAuthentication no

                """, mode: 0o644)
            guard let unit else {
                note("ssh", "server wanted, but openssh-server is not installed in this system", .failed)
                return
            }
            if (try? fm.destinationOfSymbolicLink(atPath: mask.path)) == "/dev/null" { try fm.removeItem(at: mask) }
            try fm.createDirectory(at: wants.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? fm.removeItem(at: wants)
            try fm.createSymbolicLink(atPath: wants.path, withDestinationPath: unit)
            if live {
                // Host keys made here, on this machine: an image must not ship shared ones.
                _ = try? runner.run(["ssh-keygen", "-A"])
                _ = try? runner.run(["systemctl", "daemon-reload"])
                _ = try? runner.run(["systemctl", "enable", "--now", Self.sshUnit])
            }
            note("ssh", "server on, \(answers.sshPasswordLogin ? "keys or password" : "keys only"), no root login", .ok)
        } else {
            try? fm.removeItem(at: wants)
            if unit != nil {
                if live { _ = try? runner.run(["systemctl", "disable", "--now", Self.sshUnit]) }
                try? fm.removeItem(at: mask)
                try fm.createDirectory(at: mask.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.createSymbolicLink(atPath: mask.path, withDestinationPath: "/dev/null")
            }
            note("ssh", "server off", .ok)
        }
    }
}
