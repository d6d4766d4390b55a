// What a WSL custom distribution must carry, from Microsoft's guide (MicrosoftDocs/WSL
// `WSL/build-custom-distro.md`, for WSL 2.4.4 and later):
//
// - /etc/wsl-distribution.conf: [oobe] command (run once, as root, at the first interactive
//   launch; non-zero exit blocks the shell), defaultUid (1000 when the command creates the
//   user), defaultName (needed to install by double-clicking the .wsl); [shortcut] icon (.ico,
//   at most 10 MB);
// - /etc/wsl.conf: [boot] systemd=true|false;
// - both owned by root:root with mode 0644;
// - no /etc/resolv.conf (WSL generates it), no password hashes in /etc/shadow, a root user
//   with uid 0 in /etc/passwd, no kernel and no initramfs;
// - with systemd, the units known to break under WSL disabled or masked (system and user):
//   systemd-resolved, systemd-networkd, NetworkManager, the systemd-tmpfiles units, tmp.mount.
import FoundationEssentials
import UnisonCore

/// The distribution's identity and first-run user, from the spec's `targets.wsl`.
package struct WSLDistribution: Sendable, Equatable {
    /// `oobe.defaultName`: the name `wsl --install --from-file` registers (UnisonOS).
    package var defaultName: String
    /// The account the first-run script creates.
    package var defaultUser: String
    /// Its uid, and `oobe.defaultUid` (the guide asks for 1000).
    package var defaultUid: UInt32
    /// Groups the user joins when they exist in the image.
    package var groups: [String]

    package init(
        defaultName: String, defaultUser: String, defaultUid: UInt32 = 1000,
        groups: [String] = ["adm", "sudo", "docker", "systemd-journal"]
    ) {
        self.defaultName = defaultName
        self.defaultUser = defaultUser
        self.defaultUid = defaultUid
        self.groups = groups
    }

    package static let oobePath = "usr/lib/wsl/oobe.sh"
    package static let iconPath = "usr/lib/wsl/unisonos.ico"

    /// Units the guide lists as breaking WSL when systemd is on; masked in the image.
    package static let maskedUnits = [
        "systemd-resolved.service", "systemd-networkd.service", "NetworkManager.service",
        "systemd-tmpfiles-setup.service", "systemd-tmpfiles-clean.service", "systemd-tmpfiles-clean.timer",
        "systemd-tmpfiles-setup-dev-early.service", "systemd-tmpfiles-setup-dev.service", "tmp.mount",
    ]

    /// `/etc/wsl.conf`.
    package var wslConf: String {
        """
        # /etc/wsl.conf: settings WSL reads each time this distribution starts (written by unisonctl).
        # UnisonOS runs its services under systemd.
        [boot]
        systemd=true

        """
    }

    /// `/etc/wsl.conf` for a base or overlay that already wrote one (the installer's WSL mode
    /// adds a `[boot] command`): `[boot] systemd=true` is set and every other line is kept.
    package func wslConf(merging existing: String?) -> String {
        guard let existing, !existing.trimming(.whitespacesAndNewlines).isEmpty else { return wslConf }
        var lines = INILine.lines(existing)
        func section(_ line: String) -> String? { if case let .section(name) = INILine(line) { name } else { nil } }
        func key(_ line: String) -> String? { if case let .entry(k, _) = INILine(line) { k.lowercased() } else { nil } }
        var current: String?
        var bootEnd: Int?
        var replaced = false
        for i in lines.indices {
            if let name = section(lines[i]) { current = name.lowercased(); continue }
            guard current == "boot" else { continue }
            bootEnd = i + 1
            if key(lines[i]) == "systemd" { lines[i] = "systemd=true"; replaced = true }
        }
        if !replaced {
            if let header = lines.firstIndex(where: { section($0)?.lowercased() == "boot" }) {
                lines.insert("systemd=true", at: max(bootEnd ?? header + 1, header + 1))
            } else {
                if lines.last.map({ !$0.isEmpty }) ?? false { lines.append("") }
                lines += ["[boot]", "systemd=true"]
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `/etc/wsl-distribution.conf`.
    package var distributionConf: String {
        """
        # /etc/wsl-distribution.conf: how WSL installs this distribution (written by unisonctl).
        [oobe]
        command = /\(Self.oobePath)
        defaultUid = \(defaultUid)
        defaultName = \(defaultName)

        [shortcut]
        icon = /\(Self.iconPath)

        """
    }

    /// The first-run script: creates `defaultUser` with `defaultUid` unless that uid exists,
    /// asks for its password when there is a terminal. POSIX sh; shellcheck-clean.
    package var oobeScript: String {
        let groupList = groups.joined(separator: " ")
        return """
            #!/bin/sh
            # First-run setup of the \(defaultName) WSL distribution, written by unisonctl. WSL runs it
            # once, as root, at the first interactive launch ([oobe] in /etc/wsl-distribution.conf)
            # and starts sessions as uid \(defaultUid) afterwards. A non-zero exit makes WSL run it again.
            set -eu

            user='\(defaultUser)'
            uid=\(defaultUid)

            existing=$(getent passwd "$uid" | cut -d: -f1 || true)
            if [ -n "$existing" ]; then
              echo "The account '$existing' already has uid $uid; nothing to create."
              exit 0
            fi
            if getent passwd "$user" >/dev/null; then
              # Failing here would lock every shell out (WSL reruns a failed command), so say it and go on.
              echo "An account '$user' exists with another uid; create a user with uid $uid with: wsl -u root useradd -m -u $uid NAME"
              exit 0
            fi

            groups=''
            for group in \(groupList); do
              if getent group "$group" >/dev/null; then
                groups="${groups:+$groups,}$group"
              fi
            done

            echo "Creating the \(defaultName) account '$user' (uid $uid${groups:+, groups $groups})."
            if [ -n "$groups" ]; then
              useradd --create-home --uid "$uid" --user-group --shell /bin/bash --groups "$groups" "$user"
            else
              useradd --create-home --uid "$uid" --user-group --shell /bin/bash "$user"
            fi

            if [ -t 0 ]; then
              echo "Choose a password for '$user' (used by sudo)."
              until passwd "$user"; do
                echo "Please try again."
              done
            else
              echo "No terminal: set the password of '$user' later with: wsl -u root passwd $user"
            fi

            """
    }

    /// Checks the values a WSL config file can hold.
    package func validate() throws {
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw WSLError.badDistribution(what) } }
        let nameChars = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        try check(
            !defaultName.isEmpty && defaultName.unicodeScalars.allSatisfy(nameChars.contains),
            "defaultName '\(defaultName)' must be letters, digits, '.', '_' or '-'")
        // useradd's rule for portable names (shadow-utils): lowercase start, then [a-z0-9_-].
        let userStart = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyz_")
        let userChars = ScalarSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789_-")
        try check(
            !defaultUser.isEmpty && defaultUser.count <= 32 && userStart.contains(defaultUser.unicodeScalars.first!)
                && defaultUser.unicodeScalars.allSatisfy(userChars.contains),
            "defaultUser '\(defaultUser)' is not a valid user name (lowercase letters, digits, '_' or '-')")
        try check(defaultUser != "root", "defaultUser must not be root")
        try check(defaultUid >= 1000 && defaultUid < 60000, "defaultUid \(defaultUid) is not a regular user id (1000...59999)")
        for g in groups {
            try check(!g.isEmpty && g.unicodeScalars.allSatisfy(userChars.contains), "group '\(g)' is not a valid group name")
        }
    }
}

/// WSL target errors.
package enum WSLError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    case badDistribution(String)
    case noRootUser(String)
    case requirementsNotMet([String])

    package var exitStatus: ExitStatus {
        switch self {
        case .badDistribution, .noRootUser: return .badInput
        case .requirementsNotMet: return .checkFailed
        }
    }

    package var description: String {
        switch self {
        case let .badDistribution(what): return "WSL distribution settings: \(what)"
        case let .noRootUser(detail): return "the base has no usable root account: \(detail)"
        case let .requirementsNotMet(problems):
            return "the WSL image does not meet Microsoft's requirements:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}
