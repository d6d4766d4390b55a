import FoundationEssentials
import UnisonCore

/// Answers for an unattended install or first boot: the questions a person would otherwise be
/// asked at the console, for every target (VM disk, WSL, the ISO installer).
///
/// The file is a cloud-init `#cloud-config` document, so the one file serves a NoCloud `CIDATA`
/// medium, cloud-init user-data on a VM image in a hypervisor or cloud, and the ISO. The keys
/// cloud-init already has keep cloud-init's names and meaning (`hostname`, `users[].name`,
/// `users[].hashed_passwd`, `users[].ssh_authorized_keys`, `ssh_pwauth`, `locale`,
/// `keyboard.layout`, `timezone`); what cloud-init has no key for lives under `unison:`.
/// The fields map onto the subiquity autoinstall file the real bare-metal ISO uses
/// (unison-platform `images/baremetal/nocloud/user-data`): `identity.hostname/username/password`
/// → `hostname`/`users`, `ssh.install-server/allow-pw` → `unison.ssh-server`/`ssh_pwauth`,
/// `locale`, `keyboard.layout`, `storage` → `unison.disk`. Unlike that file, there is no default
/// password: a user has a password hash or SSH keys, and a plain password is refused.
package struct Answers: Sendable, Codable, Equatable {
    package static let schemaName = "unisonctl.answers/v1"

    package var hostname: String?
    package var users: [User]
    /// `ssh_pwauth`: password login over SSH (default off; keys only).
    package var sshPasswordLogin: Bool
    /// `unison.ssh-server`: install-time choice to run sshd (default: on when a user has a key).
    package var sshServer: Bool
    package var locale: String?
    package var keyboard: Keyboard?
    package var timezone: String?
    /// `unison.disk`: the ISO installer's target disk (`/dev/…`); required for the ISO.
    package var disk: String?
    /// `unison.model-pack`: a pack of the spec's `models.packs`.
    package var modelPack: String?
    package var network: Network
    /// `unison.telemetry`: opt in to the local telemetry (default off).
    package var telemetry: Bool

    package struct User: Sendable, Codable, Equatable {
        package var name: String
        /// A crypt(3) hash (`$6$…` SHA-512, `$y$…` yescrypt, `$5$…`, `$2b$…`).
        package var passwordHash: String?
        package var sshKeys: [String]
        /// Member of the `sudo` group (default true for the first user, false for the others).
        package var sudo: Bool
    }

    package struct Keyboard: Sendable, Codable, Equatable {
        package var layout: String
        package var variant: String?
    }

    package enum Network: Sendable, Codable, Equatable {
        case dhcp
        case `static`(Static)

        package struct Static: Sendable, Codable, Equatable {
            package var interface: String?
            /// Address with prefix length, e.g. `192.168.1.20/24`.
            package var address: String
            package var gateway: String?
            package var dns: [String]
        }
    }

    /// Targets differ only in what they require (the ISO needs a disk).
    package enum Target: String, Sendable, Codable, CaseIterable {
        case vm, wsl, iso
    }

    package init(
        hostname: String? = nil, users: [User] = [], sshPasswordLogin: Bool = false, sshServer: Bool = false,
        locale: String? = nil, keyboard: Keyboard? = nil, timezone: String? = nil, disk: String? = nil,
        modelPack: String? = nil, network: Network = .dhcp, telemetry: Bool = false
    ) {
        self.hostname = hostname
        self.users = users
        self.sshPasswordLogin = sshPasswordLogin
        self.sshServer = sshServer
        self.locale = locale
        self.keyboard = keyboard
        self.timezone = timezone
        self.disk = disk
        self.modelPack = modelPack
        self.network = network
        self.telemetry = telemetry
    }
}

/// Value rules shared by the reader and by code that applies answers (which re-checks them
/// before anything reaches a file).
package enum AnswerRules {
    /// One RFC 1123 label, lowercase: letters, digits and inner hyphens, at most 63.
    package static func isHostname(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...63).contains(b.count), b.first != UInt8(ascii: "-"), b.last != UInt8(ascii: "-") else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// A login name Debian's adduser accepts by default: `[a-z_][a-z0-9_-]*`, at most 32.
    package static func isUserName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...32).contains(b.count), let first = b.first, isLowerAlpha(first) || first == UInt8(ascii: "_") else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Names that belong to the system and must not be created or taken over.
    package static let reservedUsers: Set<String> = [
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
        "backup", "list", "irc", "gnats", "nobody", "systemd-network", "systemd-resolve", "systemd-timesync",
        "messagebus", "sshd", "_apt", "ollama", "docker", "sudo", "adm", "users",
    ]

    /// The crypt(3) schemes accepted; DES and MD5 (`$1$`) are too weak to accept.
    package static let hashPrefixes = ["$6$", "$5$", "$y$", "$gy$", "$2b$", "$2y$", "$7$"]

    /// A crypt(3) string of an accepted scheme: prefix, then only `[A-Za-z0-9./$=,]`.
    package static func isPasswordHash(_ s: String) -> Bool {
        guard hashPrefixes.contains(where: { s.hasPrefix($0) }), s.utf8.count >= 20, s.utf8.count <= 512 else { return false }
        return s.utf8.allSatisfy { isAlnum($0) || "./$=,".utf8.contains($0) }
    }

    package static let sshKeyTypes: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// One `authorized_keys` line without options: `TYPE BASE64 [comment]`, printable ASCII,
    /// no control characters (a newline would add a second key line).
    package static func sshKeyProblem(_ s: String) -> String? {
        guard s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return "holds a control or non-ASCII character" }
        let parts = s.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2 else { return "is not 'TYPE BASE64 [comment]'" }
        guard sshKeyTypes.contains(String(parts[0])) else {
            return "has key type '\(parts[0])' (options before the key are not accepted; types: \(sshKeyTypes.sorted().joined(separator: ", ")))"
        }
        let blob = parts[1].utf8
        guard blob.count >= 16, blob.allSatisfy({ isAlnum($0) || "+/=".utf8.contains($0) }) else { return "has a key that is not base64" }
        return nil
    }

    /// `ll[_CC][.charset][@modifier]`, e.g. `en_US.UTF-8`.
    package static func isLocale(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (2...48).contains(b.count), b.prefix(2).allSatisfy(isLowerAlpha) else { return false }
        return b.allSatisfy { isAlnum($0) || "_.-@".utf8.contains($0) }
    }

    /// An XKB layout or variant name: lowercase letters, digits, `_` and `-`.
    package static func isKeyboardName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        return (1...32).contains(b.count) && b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A tz database name (`Europe/Berlin`, `UTC`): components of `[A-Za-z0-9_+-]`, no `..`.
    package static func isTimezone(_ s: String) -> Bool {
        guard (1...64).contains(s.utf8.count), !s.hasPrefix("/"), !s.hasSuffix("/") else { return false }
        return s.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part != "." && part != ".." && part.utf8.allSatisfy { isAlnum($0) || "_+-".utf8.contains($0) }
        }
    }

    /// A whole-disk device path: `/dev/` then `[A-Za-z0-9._:/-]`, no `..` (by-id paths allowed).
    package static func isDiskPath(_ s: String) -> Bool {
        guard s.hasPrefix("/dev/"), s.utf8.count <= 255, !s.contains(".."), !s.contains("//") else { return false }
        return s.dropFirst(5).utf8.allSatisfy { isAlnum($0) || "._:/-".utf8.contains($0) } && s.count > 5
    }

    /// A network interface name as the kernel allows it (at most 15, no `/`, no spaces) and
    /// conservative about the rest.
    package static func isInterface(_ s: String) -> Bool {
        let b = Array(s.utf8)
        return (1...15).contains(b.count) && b.allSatisfy { isAlnum($0) || "_.-".utf8.contains($0) } && s != "." && s != ".."
    }

    /// A pack name: what the spec's pack names look like.
    package static func isPackName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        return (1...64).contains(b.count) && b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// An IPv4 or IPv6 address (no prefix).
    package static func isIPAddress(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }

    /// `address/prefix` with a prefix length the family allows.
    package static func isCIDR(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), String(prefix) == parts[1] else { return false }
        let address = String(parts[0])
        if isIPv4(address) { return (0...32).contains(prefix) }
        if isIPv6(address) { return (0...128).contains(prefix) }
        return false
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { p in
                guard (1...3).contains(p.count), p.utf8.allSatisfy(isDigit), let n = Int(p), n <= 255 else { return false }
                return p.count == 1 || p.first != "0"
            }
    }

    static func isIPv6(_ s: String) -> Bool {
        guard (2...39).contains(s.utf8.count), s.utf8.allSatisfy({ isDigit($0) || "abcdefABCDEF:".utf8.contains($0) }) else { return false }
        let doubles = s.components(separatedBy: "::").count - 1
        guard doubles <= 1 else { return false }
        let groups = s.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.allSatisfy({ (1...4).contains($0.count) }) else { return false }
        return doubles == 1 ? groups.count <= 7 : groups.count == 8
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isLowerAlpha(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7a }
    static func isLowerAlnum(_ c: UInt8) -> Bool { isLowerAlpha(c) || isDigit(c) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a) }
}
