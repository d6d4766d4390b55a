import FoundationEssentials
import UnisonCore
import UnisonYAML

/// Reads and validates an answers file with the spec loader's located diagnostics
/// (`file:line:column`, every problem at once, unknown keys with a suggestion).
package enum AnswersLoader {
    /// What the answers are checked against besides their own rules.
    package struct Context: Sendable {
        /// The target being installed: the ISO requires `unison.disk`.
        package var target: Answers.Target?
        /// The spec's model packs; nil skips the pack-name check.
        package var packs: [String]?
        /// Whole disks present on the machine; nil skips the presence check (`answers check`
        /// on another machine), the installer passes what it found.
        package var presentDisks: [String]?

        package init(target: Answers.Target? = nil, packs: [String]? = nil, presentDisks: [String]? = nil) {
            self.target = target
            self.packs = packs
            self.presentDisks = presentDisks
        }
    }

    package static func load(file url: URL, context: Context = Context()) throws -> Answers {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SpecLocationError.unreadable(path: url.path, reason: ErrorText.reason(error))
        }
        guard data.count <= maximumSize else {
            throw SpecError(diagnostics: [
                SpecDiagnostic(
                    file: SpecLoader.displayPath(url), line: 1, column: 1,
                    message: "the answers file is \(data.count) bytes; at most \(maximumSize) are read")
            ])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(diagnostics: [
                SpecDiagnostic(
                    file: SpecLoader.displayPath(url), line: 1, column: 1,
                    message: "the answers file is not UTF-8 text")
            ])
        }
        return try load(text: text, file: SpecLoader.displayPath(url), context: context)
    }

    /// An answers file is a few hundred bytes; cloud-init user-data is limited to 16 KiB on
    /// most clouds. Anything much larger is not an answers file.
    package static let maximumSize = 256 * 1024

    package static func load(text: String, file: String = "answers.yaml", context: Context = Context()) throws -> Answers {
        let sink = DiagnosticSink(file: file)
        let root: Node?
        do {
            root = try UnisonYAML.compose(yaml: text)
        } catch let error as YAMLError {
            sink.append(yamlError: error, text: text)
            throw SpecError(diagnostics: sink.sorted)
        }
        guard let root else {
            sink.report(
                line: 1, column: 1, "the answers file is empty",
                hint: "start from the example in docs/pilot-guide.md")
            throw SpecError(diagnostics: sink.sorted)
        }
        let answers = AnswersReader(sink: sink, context: context).read(root)
        guard sink.diagnostics.isEmpty, let answers else { throw SpecError(diagnostics: sink.sorted) }
        return answers
    }
}

/// Reads the document section by section (see `Answers` for the keys).
final class AnswersReader {
    let sink: DiagnosticSink
    let context: AnswersLoader.Context

    init(sink: DiagnosticSink, context: AnswersLoader.Context) {
        self.sink = sink
        self.context = context
    }

    func read(_ root: Node) -> Answers? {
        guard let top = MapReader(root, path: "answers", sink: sink) else { return nil }
        var answers = Answers()
        if let hostname = top.string("hostname") {
            if AnswerRules.isHostname(hostname) {
                answers.hostname = hostname
            } else {
                sink.report(
                    top.value("hostname"), "hostname '\(hostname)' is not a host name",
                    hint: "one label of lowercase letters, digits and inner '-', at most 63, e.g. unison-lab-01")
            }
        }
        var firstUser = true
        let usersNode = top.value("users")
        answers.users =
            top.list("users") { u in
                defer { firstUser = false }
                return self.readUser(u, first: firstUser)
            } ?? []
        var seen: [String: Node] = [:]
        if case let .sequence(seq)? = usersNode {
            for item in seq {
                guard case let .mapping(m) = item, let nameNode = m["name"], let name = nameNode.scalar?.string else { continue }
                if seen[name] != nil {
                    sink.report(nameNode, "user '\(name)' is listed twice")
                }
                seen[name] = nameNode
            }
        }
        answers.sshPasswordLogin = top.bool("ssh_pwauth") ?? false
        if let locale = top.string("locale") {
            if AnswerRules.isLocale(locale) {
                answers.locale = locale
            } else {
                sink.report(top.value("locale"), "locale '\(locale)' is not a locale name", hint: "e.g. en_US.UTF-8")
            }
        }
        if let keyboardNode = top.value("keyboard") {
            answers.keyboard = readKeyboard(keyboardNode)
        }
        if let tz = top.string("timezone") {
            if AnswerRules.isTimezone(tz) {
                answers.timezone = tz
            } else {
                sink.report(top.value("timezone"), "timezone '\(tz)' is not a tz database name", hint: "e.g. Europe/Berlin or UTC")
            }
        }
        let unisonNode = top.value("unison")
        let unison = top.map("unison")
        if let unison { readUnison(unison, into: &answers) }
        top.finish()

        // Cross-field rules.
        if !top.has("ssh_pwauth") || !answers.sshPasswordLogin {
            // nothing: keys-only is the default
        } else if !answers.users.contains(where: { $0.passwordHash != nil }) {
            sink.report(top.value("ssh_pwauth"), "ssh_pwauth is true but no user has a password hash")
        }
        if unison?.has("ssh-server") != true {
            answers.sshServer = answers.users.contains { !$0.sshKeys.isEmpty }
        }
        if context.target == .iso, answers.disk == nil, unison?.has("disk") != true {
            sink.report(
                unisonNode ?? root, "the ISO installer needs unison.disk (the whole disk to install onto, e.g. /dev/vda)",
                hint: "an unattended install never guesses which disk to erase")
        }
        return answers
    }

    func readUser(_ u: MapReader, first: Bool) -> Answers.User? {
        let name = u.string("name", required: true)
        if let name {
            if !AnswerRules.isUserName(name) {
                sink.report(
                    u.value("name"), "\(u.path).name '\(name)' is not a login name",
                    hint: "lowercase letters, digits, '_' and '-', starting with a letter, at most 32")
            } else if AnswerRules.reservedUsers.contains(name) {
                sink.report(u.value("name"), "\(u.path).name '\(name)' is a system account and cannot be created or changed by answers")
            }
        }
        for plain in ["plain_text_passwd", "password", "plain_password"] where u.has(plain) {
            _ = u.value(plain)
            sink.report(
                u.keyNode(plain), "\(u.path).\(plain): plain passwords are refused",
                hint: "give hashed_passwd (mkpasswd -m sha-512, or openssl passwd -6) or ssh_authorized_keys")
        }
        var hash: String?
        for key in ["hashed_passwd", "passwd"] where u.has(key) {
            guard let value = u.string(key) else { continue }
            if AnswerRules.isPasswordHash(value) {
                if hash != nil { sink.report(u.keyNode(key), "\(u.path) has both hashed_passwd and passwd; keep one") }
                hash = value
            } else if value.hasPrefix("$1$") || (value.hasPrefix("$") && value.dropFirst().contains("$")) {
                sink.report(
                    u.value(key), "\(u.path).\(key) is a password hash of a scheme too weak or unknown",
                    hint: "use SHA-512 ($6$, mkpasswd -m sha-512) or yescrypt ($y$)")
            } else {
                sink.report(
                    u.value(key), "\(u.path).\(key) is not a password hash: plain passwords are refused",
                    hint: "give the crypt(3) hash (mkpasswd -m sha-512), never the password")
            }
        }
        var keys: [String] = []
        if let node = u.value("ssh_authorized_keys"), let list = u.stringList(node, "\(u.path).ssh_authorized_keys") {
            let items: [Node]
            if case let .sequence(seq) = node { items = Array(seq) } else { items = [node] }
            for (i, key) in list.enumerated() {
                if let problem = AnswerRules.sshKeyProblem(key) {
                    sink.report(i < items.count ? items[i] : node, "\(u.path).ssh_authorized_keys[\(i)] \(problem)")
                } else {
                    keys.append(key)
                }
            }
        }
        let sudo = u.bool("sudo") ?? first
        if name != nil, hash == nil, keys.isEmpty, !u.has("hashed_passwd"), !u.has("passwd"),
            !u.has("ssh_authorized_keys"), !["plain_text_passwd", "password", "plain_password"].contains(where: u.has)
        {
            sink.report(
                u.node, "\(u.path) has no way to log in",
                hint: "give hashed_passwd, ssh_authorized_keys, or both")
        }
        guard let name else { return nil }
        return Answers.User(name: name, passwordHash: hash, sshKeys: keys, sudo: sudo)
    }

    func readKeyboard(_ node: Node) -> Answers.Keyboard? {
        // cloud-init's form is a mapping; a bare layout name is accepted too.
        if case let .scalar(s) = node {
            guard AnswerRules.isKeyboardName(s.string) else {
                sink.report(node, "keyboard '\(s.string)' is not an XKB layout name", hint: "e.g. us, de, fr")
                return nil
            }
            return Answers.Keyboard(layout: s.string, variant: nil)
        }
        guard let m = MapReader(node, path: "answers.keyboard", sink: sink) else { return nil }
        defer { m.finish() }
        var ok = true
        let layout = m.string("layout", required: true)
        let variant = m.string("variant")
        for (key, value) in [("layout", layout), ("variant", variant)] {
            if let value, !AnswerRules.isKeyboardName(value) {
                sink.report(m.value(key), "keyboard.\(key) '\(value)' is not an XKB name", hint: "e.g. us, de, fr")
                ok = false
            }
        }
        guard ok, let layout else { return nil }
        return Answers.Keyboard(layout: layout, variant: variant)
    }

    func readUnison(_ m: MapReader, into answers: inout Answers) {
        defer { m.finish() }
        if let on = m.bool("ssh-server") { answers.sshServer = on }
        if let disk = m.string("disk") {
            if !AnswerRules.isDiskPath(disk) {
                sink.report(
                    m.value("disk"), "unison.disk '\(disk)' is not a disk device path",
                    hint: "a whole disk under /dev, e.g. /dev/vda or /dev/disk/by-id/…")
            } else if let present = context.presentDisks, !present.contains(disk) {
                sink.report(
                    m.value("disk"), "unison.disk \(disk) is not present on this machine",
                    hint: present.isEmpty ? "no disk was found" : "disks found: \(present.joined(separator: ", "))")
            } else {
                answers.disk = disk
            }
        }
        if let pack = m.string("model-pack") {
            if !AnswerRules.isPackName(pack) {
                sink.report(m.value("model-pack"), "unison.model-pack '\(pack)' is not a pack name")
            } else if let packs = context.packs, !packs.contains(pack) {
                sink.report(
                    m.value("model-pack"), "unison.model-pack '\(pack)' is not a pack of the spec",
                    hint: suggestion(for: pack, among: packs).map { "did you mean '\($0)'?" } ?? "packs: \(packs.joined(separator: ", "))")
            } else {
                answers.modelPack = pack
            }
        }
        if let node = m.value("network") { answers.network = readNetwork(node) ?? .dhcp }
        answers.telemetry = m.bool("telemetry") ?? false
    }

    func readNetwork(_ node: Node) -> Answers.Network? {
        if case let .scalar(s) = node {
            guard s.string == "dhcp" else {
                sink.report(node, "unison.network must be 'dhcp' or a mapping with mode: static, found '\(s.string)'")
                return nil
            }
            return .dhcp
        }
        guard let m = MapReader(node, path: "unison.network", sink: sink) else { return nil }
        defer { m.finish() }
        let mode = m.string("mode", required: true)
        switch mode {
        case "dhcp":
            return .dhcp
        case "static":
            var ok = true
            let interface = m.string("interface")
            if let interface, !AnswerRules.isInterface(interface) {
                sink.report(m.value("interface"), "unison.network.interface '\(interface)' is not an interface name"); ok = false
            }
            let address = m.string("address", required: true)
            if let address, !AnswerRules.isCIDR(address) {
                sink.report(
                    m.value("address"), "unison.network.address '\(address)' is not an address with a prefix length",
                    hint: "e.g. 192.168.1.20/24");
                ok = false
            }
            let gateway = m.string("gateway")
            if let gateway, !AnswerRules.isIPAddress(gateway) {
                sink.report(m.value("gateway"), "unison.network.gateway '\(gateway)' is not an IP address"); ok = false
            }
            let dns = m.stringList("dns") ?? []
            for (i, server) in dns.enumerated() where !AnswerRules.isIPAddress(server) {
                sink.report(m.value("dns"), "unison.network.dns[\(i)] '\(server)' is not an IP address"); ok = false
            }
            guard ok, let address else { return nil }
            return .static(.init(interface: interface, address: address, gateway: gateway, dns: dns))
        case let other?:
            sink.report(m.value("mode"), "unison.network.mode must be dhcp or static, found '\(other)'")
            return nil
        case nil:
            return nil
        }
    }
}
