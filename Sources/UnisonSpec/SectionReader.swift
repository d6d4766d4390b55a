import UnisonCore
import UnisonYAML

/// Reads each top-level section of the spec into the model, applying defaults. Locations of
/// names and references are remembered for the cross-reference checks that follow.
final class SectionReader {
    let sink: DiagnosticSink
    var locations: [String: Node] = [:]

    init(sink: DiagnosticSink) { self.sink = sink }

    func read(_ root: Node) -> LocatedSpec? {
        guard let top = MapReader(root, path: "spec", sink: sink) else { return nil }
        let schemaValue = top.int("schema", required: true)
        if let schemaValue, schemaValue != PlatformSpec.currentSchema {
            sink.report(
                top.value("schema"), "unsupported spec schema \(schemaValue)",
                hint: "this unisonctl reads schema \(PlatformSpec.currentSchema)")
        }
        let platform = readPlatform(top.map("platform", required: true))
        let declaredRepos = top.list("repos", required: true) { self.readRepo($0, platform: platform) } ?? []
        let services =
            top.list("services", required: true) {
                self.readService($0, kind: .platform, platform: platform, repos: declaredRepos)
            } ?? []
        let infrastructure =
            top.list("infrastructure") {
                self.readService($0, kind: .infrastructure, platform: platform, repos: declaredRepos)
            } ?? []
        let channels = readChannels(top.map("channels", required: true))
        let release = readRelease(top.map("release"))
        let models = readModels(top.map("models", required: true))
        let bases = top.list("bases", required: true, readBase) ?? []
        let targets = readTargets(top.map("targets", required: true))
        let installer = readInstaller(top.map("installer", required: true))
        let qa = readQA(top.map("qa"))
        let telemetry = readTelemetry(top.map("telemetry"))
        let readme = readReadme(top.map("readme"))
        let compatibility = readCompatibility(top.map("compatibility"))
        top.finish()

        guard let platform else { return nil }
        var repos = declaredRepos
        for service in services {
            guard let repoName = service.repo else { continue }
            if let index = repos.firstIndex(where: { $0.name == repoName }) {
                repos[index].services.append(service.name)
            } else {
                repos.append(
                    Repo(
                        name: repoName, role: .service,
                        description: service.description ?? "The \(service.name) service.",
                        defaultBranch: platform.defaultBranch,
                        entrypoints: ["run": "make run", "test": "make test"], services: [service.name],
                        images: [repoName], dockerfile: "Dockerfile"))
            }
        }
        let spec = PlatformSpec(
            schema: schemaValue ?? PlatformSpec.currentSchema, platform: platform, repos: repos,
            services: services, infrastructure: infrastructure, channels: channels,
            release: release, models: models, bases: bases, targets: targets,
            installer: installer, qa: qa, telemetry: telemetry, readme: readme,
            compatibility: compatibility)
        return LocatedSpec(spec: spec, locations: locations)
    }

    // MARK: sections

    func readPlatform(_ m: MapReader?) -> Platform? {
        guard let m else { return nil }
        defer { m.finish() }
        let name = m.string("name", required: true)
        let org = m.string("org", required: true)
        var version = SemVer(0, 1, 0)
        if let text = m.string("version") {
            if let v = SemVer(text) {
                version = v
            } else {
                sink.report(
                    m.value("version"), "platform.version '\(text)' is not a SemVer 2.0.0 version",
                    hint: "write MAJOR.MINOR.PATCH, e.g. 0.5.0")
            }
        }
        let platform = Platform(
            name: name ?? "unisonos", displayName: m.string("displayName") ?? name ?? "UnisonOS",
            org: org ?? "", registry: m.string("registry") ?? "ghcr.io",
            defaultBranch: m.string("defaultBranch") ?? "main", version: version)
        if let org, !Self.isLowercaseName(org) {
            sink.report(
                m.value("org"), "platform.org '\(org)' is not a valid registry namespace",
                hint: "use lowercase letters, digits, '.', '_' and '-'")
        }
        return name == nil || org == nil ? nil : platform
    }

    func readRepo(_ m: MapReader, platform: Platform?) -> Repo? {
        let name = m.string("name", required: true)
        let roleText = m.string("role", required: true)
        var role: RepoRole?
        if let roleText {
            role = RepoRole(rawValue: roleText)
            if role == nil {
                sink.report(
                    m.value("role"), "unknown repo role '\(roleText)'",
                    hint: "one of: " + RepoRole.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
        let status = enumValue(m, "status", RepoStatus.self) ?? .core
        let checkout = enumValue(m, "checkout", RepoCheckout.self) ?? .sibling
        let language = m.string("language")
        if let language, !Self.knownLanguages.contains(language) {
            sink.report(
                m.value("language"), "\(m.path).language '\(language)' is not a known language",
                hint: "one of: " + Self.knownLanguages.sorted().joined(separator: ", "))
        }
        let branch = m.string("defaultBranch")
        if let branch, !Self.isBranchName(branch) {
            sink.report(
                m.value("defaultBranch"), "\(m.path).defaultBranch '\(branch)' is not a valid branch name",
                hint: "letters, digits, '.', '_', '-' and '/', e.g. main")
        }
        let entrypoints = m.stringMap("entrypoints") ?? [:]
        let description = m.string("description") ?? ""
        var images = m.stringList("images")
        if let node = m.value("images"), case let .sequence(seq) = node {
            for item in seq {
                if let image = item.scalar?.string, !Self.isImageName(image) {
                    sink.report(
                        item, "\(m.path).images: '\(image)' is not an image name",
                        hint: "a lowercase repository name under the org, e.g. unison-capability")
                }
            }
        }
        let dockerfile = m.string("dockerfile")
        if let dockerfile, dockerfile.hasPrefix("/") || dockerfile.split(separator: "/").contains("..") || dockerfile.isEmpty {
            sink.report(
                m.value("dockerfile"), "\(m.path).dockerfile '\(dockerfile)' must be a path inside the repo",
                hint: "relative to the repo root, e.g. docker/Dockerfile")
        }
        let note = m.string("note")
        // A repo with a bad role stays declared (the spec already fails), so references to it
        // do not produce further errors.
        guard let name, roleText != nil else { return nil }
        let knownRole = role ?? .library
        if images == nil { images = knownRole == .service ? [name] : [] }
        let builds = knownRole == .service && !(images ?? []).isEmpty
        if let node = m.value("name") { remember("repo:\(name)", node) }
        for field in ["images", "defaultBranch", "entrypoints", "dockerfile", "checkout", "role"] {
            if let node = m.value(field) { remember("repo:\(name).\(field)", node) }
        }
        return Repo(
            name: name, role: knownRole, description: description, status: status, language: language,
            defaultBranch: branch ?? platform?.defaultBranch ?? "main", entrypoints: entrypoints, services: [],
            images: images ?? [], checkout: checkout,
            dockerfile: dockerfile ?? (builds ? "Dockerfile" : nil), note: note)
    }

    /// Languages a repo may declare: what the platform's repositories are written in.
    static let knownLanguages: Set<String> = [
        "python", "javascript", "typescript", "swift", "go", "rust", "shell",
        "markdown", "docker", "yaml", "json", "c", "kicad",
    ]

    /// A git branch name as `git check-ref-format --branch` accepts the common subset.
    static func isBranchName(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 255, !s.hasPrefix("-"), !s.hasPrefix("/"), !s.hasSuffix("/"), !s.hasSuffix(".lock"),
            !s.hasSuffix("."), !s.contains(".."), !s.contains("//")
        else { return false }
        return s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "._-/".unicodeScalars.contains(c)
        }
    }

    /// An image repository name below the org: lowercase components joined by `/`.
    static func isImageName(_ s: String) -> Bool {
        !s.isEmpty
            && s.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
                guard let first = part.first, first.isASCII, first.isLowercase || first.isNumber else { return false }
                return isLowercaseName(String(part))
            }
    }

    /// A scalar that must be one of an enum's raw values; reports the choices otherwise.
    func enumValue<E: RawRepresentable & CaseIterable>(_ m: MapReader, _ key: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let text = m.string(key) else { return nil }
        if let value = E(rawValue: text) { return value }
        sink.report(
            m.value(key),
            "\(m.path).\(key) '\(text)' is not one of: "
                + E.allCases.map(\.rawValue).joined(separator: ", "))
        return nil
    }

    func readService(_ m: MapReader, kind: ServiceKind, platform: Platform?, repos: [Repo]) -> Service? {
        let name = m.string("name", required: true)
        let repo = kind == .platform ? m.string("repo", required: true) : nil
        var image = m.string("image", required: kind == .infrastructure)
        let port = m.int("port", required: true, range: 1...65535)
        let hostPortValue = m.int("hostPort", range: 1...65535)
        let publish = m.bool("publish") ?? true
        if !publish, hostPortValue != nil {
            sink.report(
                m.value("hostPort"), "service '\(name ?? "")' has a hostPort but publish: false",
                hint: "drop hostPort, or publish the port")
        }
        let health = m.string("health")
        let healthPort = m.int("healthPort", range: 1...65535)
        let healthCommand = m.string("healthCommand")
        let healthCheck = m.bool("healthCheck") ?? true
        let extraPorts = intList(m, "extraPorts")
        let dependsOn = m.stringList("dependsOn") ?? []
        let env = m.stringMap("env") ?? [:]
        if let envNode = m.value("env"), case let .mapping(pairs) = envNode {
            for (key, _) in pairs {
                if let k = key.scalar?.string, !Self.isEnvName(k) {
                    sink.report(key, "\(m.path).env: '\(k)' is not a valid environment variable name")
                }
            }
        }
        let volumes = m.stringList("volumes") ?? []
        if let node = m.value("volumes"), case let .sequence(seq) = node {
            for item in seq {
                guard let text = item.scalar?.string else { continue }
                let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                let sourceOK = parts.first.map { $0.hasPrefix("/") || Self.isComposeName($0) } ?? false
                if parts.count < 2 || parts.count > 3 || !sourceOK || !parts[1].hasPrefix("/")
                    || (parts.count == 3 && !["ro", "rw"].contains(parts[2]))
                {
                    sink.report(
                        item, "\(m.path).volumes: '\(text)' is not SOURCE:/container/path[:ro]",
                        hint: "SOURCE is an absolute host path or a volume name, e.g. postgres_data:/var/lib/postgresql/data")
                }
            }
        }
        let command = m.stringList("command")
        let profiles = names(m, "profiles", what: "profile")
        let secrets = names(m, "secrets", what: "secret")
        let extraHosts = m.stringList("extraHosts") ?? []
        if let node = m.value("extraHosts"), case let .sequence(seq) = node {
            for item in seq {
                guard let text = item.scalar?.string else { continue }
                let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty
                    || !parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
                {
                    sink.report(
                        item, "\(m.path).extraHosts: '\(text)' is not HOST:ADDRESS",
                        hint: "e.g. host.docker.internal:host-gateway")
                }
            }
        }
        let capAdd = m.stringList("capAdd") ?? []
        if let node = m.value("capAdd"), case let .sequence(seq) = node {
            for item in seq where !(item.scalar?.string ?? "").allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "_") }) {
                sink.report(item, "\(m.path).capAdd: '\(item.scalar?.string ?? "")' is not a capability name", hint: "e.g. SYS_ADMIN")
            }
        }
        let securityOpt = m.stringList("securityOpt") ?? []
        let description = m.string("description")
        // A service with a bad field is kept (port 0) so that references to it do not cascade
        // into further, misleading errors.
        guard let name else { return nil }
        let key = "service:\(name)"
        if let node = m.value("name") { remember(key, node) }
        if let node = m.value("image") { remember("\(key).image", node) }
        for field in ["hostPort", "port", "health", "healthPort", "healthCommand", "profiles", "secrets", "command"] {
            if let node = m.value(field) { remember("\(key).\(field)", node) }
        }
        if let node = m.value("dependsOn") {
            remember("\(key).dependsOn", node)
            if case let .sequence(seq) = node {
                for (i, item) in seq.enumerated() { remember("\(key).dependsOn[\(i)]", item) }
            }
        }
        if let node = m.value("secrets"), case let .sequence(seq) = node {
            for (i, item) in seq.enumerated() { remember("\(key).secrets[\(i)]", item) }
        }
        if let health, !health.hasPrefix("/") {
            sink.report(m.value("health"), "\(m.path).health '\(health)' must be an absolute path", hint: "write /\(health)")
        }
        if health == nil, healthCommand == nil, healthCheck {
            sink.report(
                m.node, "service '\(name)' has no health check",
                hint: "add health: /health or healthCommand (or healthCheck: false for a worker nothing waits on)")
        }
        if !healthCheck, health != nil || healthCommand != nil {
            sink.report(
                m.value("healthCheck"), "service '\(name)' has healthCheck: false and a health check",
                hint: "drop one of them")
        }
        if kind == .platform, image == nil, let repo, let platform {
            let published = repos.first { $0.name == repo }?.images.first ?? repo
            image = "\(platform.imagePrefix)/\(published)"
        }
        return Service(
            name: name, kind: kind, repo: repo, image: image ?? "", port: port ?? 0,
            hostPort: publish ? (hostPortValue ?? port) : nil, health: health, healthPort: healthPort,
            healthCommand: healthCommand, healthCheck: healthCheck, extraPorts: extraPorts,
            dependsOn: dependsOn, env: env, volumes: volumes, command: command, profiles: profiles,
            secrets: secrets, extraHosts: extraHosts, capAdd: capAdd, securityOpt: securityOpt,
            description: description)
    }

    /// A list of ports (1...65535).
    func intList(_ m: MapReader, _ key: String) -> [Int] {
        guard let node = m.value(key) else { return [] }
        guard case let .sequence(seq) = node else {
            sink.report(node, "\(m.path).\(key) must be a list of ports, found \(node.kindName)")
            return []
        }
        var out: [Int] = []
        for item in seq {
            guard let text = item.scalar?.string, let n = Int(text), (1...65535).contains(n) else {
                sink.report(item, "\(m.path).\(key): \(item.kindDescription) is not a port between 1 and 65535")
                continue
            }
            out.append(n)
        }
        return out
    }

    /// A list of lowercase names (compose profile and secret names).
    func names(_ m: MapReader, _ key: String, what: String) -> [String] {
        let list = m.stringList(key) ?? []
        if let node = m.value(key), case let .sequence(seq) = node {
            for item in seq {
                if let text = item.scalar?.string, !Self.isComposeName(text) {
                    sink.report(
                        item, "\(m.path).\(key): '\(text)' is not a valid \(what) name",
                        hint: "lowercase letters, digits, '_' and '-', starting with a letter or digit")
                }
            }
        }
        return list
    }

    /// Compose profile and secret names: `[a-z0-9][a-z0-9_.-]*`.
    static func isComposeName(_ s: String) -> Bool {
        guard let first = s.first, first.isASCII, first.isLowercase || first.isNumber else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "_.-".contains($0)) }
    }

    func readChannels(_ m: MapReader?) -> [Channel] {
        guard let m else { return [] }
        defer { m.finish() }
        var channels: [Channel] = []
        for name in m.keys {
            guard let c = m.map(name) else { continue }
            if let node = m.keyNode(name) { remember("channel:\(name)", node) }
            let tags = c.stringList("tags", required: true) ?? []
            if let node = c.value("tags"), case let .sequence(seq) = node {
                for (i, item) in seq.enumerated() { remember("channel:\(name).tags[\(i)]", item) }
            }
            let flavor = c.stringList("flavor") ?? []
            if let node = c.value("flavor"), case let .sequence(seq) = node {
                for (i, item) in seq.enumerated() { remember("channel:\(name).flavor[\(i)]", item) }
            }
            channels.append(
                Channel(
                    name: name, branches: c.stringList("branches") ?? [],
                    tagPattern: c.string("tagPattern"), events: c.stringList("events") ?? ["push"],
                    versionFormat: c.string("versionFormat"), githubRelease: c.string("githubRelease"),
                    tags: tags, flavor: flavor))
            if let kind = c.string("githubRelease"), !["draft", "prerelease", "release"].contains(kind), let node = c.value("githubRelease") {
                sink.report(node, "githubRelease must be draft, prerelease or release, not '\(kind)'")
            }
            c.finish()
        }
        for required in ["nightly", "beta", "stable"] where !channels.contains(where: { $0.name == required }) {
            sink.report(m.node, "channels is missing the '\(required)' channel")
        }
        return channels
    }

    func readRelease(_ m: MapReader?) -> ReleaseSettings {
        defer { m?.finish() }
        let keys = m?.stringList("signingKeys") ?? []
        if let m, let node = m.value("signingKeys") {
            for (i, key) in keys.enumerated() where !ReleaseSettings.isEd25519PublicKey(key) {
                var at = node
                if case let .sequence(seq) = node, i < seq.count { at = seq[i] }
                sink.report(at, "release.signingKeys[\(i)] is not an OpenSSH Ed25519 public key ('ssh-ed25519 AAAAC3Nza… [comment]')")
            }
        }
        return ReleaseSettings(
            bumpMinorPreMajor: m?.bool("bumpMinorPreMajor") ?? false,
            artifacts: m?.string("artifacts") ?? "dist", signingKeys: keys)
    }

    func readModels(_ m: MapReader?) -> Models {
        guard let m else { return Models(registry: "registry.ollama.ai", store: "/var/lib/unison/models", packs: []) }
        defer { m.finish() }
        let packs =
            m.list("packs", required: true) { p -> ModelPack? in
                let name = p.string("name", required: true)
                let preload = p.stringList("preload") ?? []
                let ram = self.size(p, "minRam")
                let disk = self.size(p, "minDisk")
                let description = p.string("description") ?? ""
                guard let name else { return nil }
                if let node = p.value("name") { self.remember("pack:\(name)", node) }
                if let node = p.value("preload"), case let .sequence(seq) = node {
                    for (i, item) in seq.enumerated() {
                        self.remember("pack:\(name).preload[\(i)]", item)
                        if let model = item.scalar?.string, !ImageName.isValidModelName(model) {
                            self.sink.report(item, "model '\(model)' is not NAME:TAG", hint: "e.g. qwen2.5:1.5b")
                        }
                    }
                }
                let profile = p.string("profile")
                if let profile, !profile.contains("/") || !profile.split(separator: "/").allSatisfy({ Self.isComposeName(String($0)) }) {
                    self.sink.report(
                        p.value("profile"), "\(p.path).profile '\(profile)' is not a unison-platform profile name",
                        hint: "CHANNEL/NAME as in model-packs/, e.g. alpha/default")
                }
                let requires = p.stringList("requires") ?? []
                if let node = p.value("requires"), case let .sequence(seq) = node {
                    for item in seq {
                        let text = item.scalar?.string ?? ""
                        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
                        if parts.count != 2 || parts[0].isEmpty || SemVer(String(parts[1])) == nil {
                            self.sink.report(
                                item, "\(p.path).requires: '\(text)' is not NAME@VERSION",
                                hint: "e.g. unison.phase1.1.speech@0.1.1")
                        }
                    }
                }
                let defaults = p.stringMap("defaults") ?? [:]
                return ModelPack(
                    name: name, description: description, preload: preload,
                    minRam: ram ?? ByteSize(bytes: 0), minDisk: disk ?? ByteSize(bytes: 0),
                    profile: profile, requires: requires, defaults: defaults)
            } ?? []
        return Models(
            registry: m.string("registry") ?? "registry.ollama.ai",
            store: m.string("store") ?? "/var/lib/unison/models", packs: packs)
    }

    func readBase(_ m: MapReader) -> Base? {
        let name = m.string("name", required: true)
        let kindText = m.string("kind", required: true)
        var kind: BaseKind?
        if let kindText {
            kind = BaseKind(rawValue: kindText)
            if kind == nil {
                sink.report(m.value("kind"), "unknown base kind '\(kindText)'", hint: "one of: mmdebstrap, oci, tarball, directory")
            }
        }
        let base = Base(
            name: name ?? "", kind: kind ?? .mmdebstrap, suite: m.string("suite"), mirror: m.string("mirror"),
            packages: m.stringList("packages") ?? [], image: m.string("image"), path: m.string("path"))
        if let name, let node = m.value("name") { remember("base:\(name)", node) }
        switch kind {
        case .mmdebstrap? where base.suite == nil: sink.report(m.node, "base '\(base.name)' of kind mmdebstrap needs 'suite'")
        case .oci? where base.image == nil: sink.report(m.node, "base '\(base.name)' of kind oci needs 'image'")
        case .oci?:
            if let image = base.image, ImageName(image) == nil {
                sink.report(m.value("image"), "malformed image reference '\(image)'", hint: "e.g. docker.io/library/ubuntu:24.04")
            }
        case .tarball?, .directory?:
            if base.path == nil { sink.report(m.node, "base '\(base.name)' of kind \(kindText ?? "") needs 'path'") }
        default: break
        }
        return name == nil || kind == nil ? nil : base
    }

    func readTargets(_ m: MapReader?) -> Targets {
        guard let m else { return Targets() }
        defer { m.finish() }
        var targets = Targets()
        targets.images = enumValue(m, "images", ImageDelivery.self)
        if let t = m.map("wsl") {
            let formats = formatList(t, allowed: ["tar.gz", "wsl"], default: ["tar.gz", "wsl"])
            targets.wsl = WSLTarget(
                base: ref(t, "wsl", "base"), models: ref(t, "wsl", "models"), formats: formats,
                defaultUser: t.string("defaultUser") ?? "unison",
                ollama: enumValue(t, "ollama", OllamaPlacement.self) ?? .container,
                images: enumValue(t, "images", ImageDelivery.self))
            t.finish()
        }
        if let t = m.map("vm") {
            let formats = formatList(t, allowed: ["qcow2", "vmdk", "raw"], default: ["qcow2", "vmdk"])
            let firmware = t.string("firmware") ?? "uefi"
            if firmware != "uefi" { sink.report(t.value("firmware"), "vm firmware must be 'uefi', found '\(firmware)'") }
            targets.vm = VMTarget(
                base: ref(t, "vm", "base"), models: ref(t, "vm", "models"), formats: formats,
                diskSize: size(t, "diskSize") ?? ByteSize("8GiB")!, firmware: firmware,
                ollama: enumValue(t, "ollama", OllamaPlacement.self) ?? .container,
                images: enumValue(t, "images", ImageDelivery.self))
            t.finish()
        }
        if let t = m.map("iso") {
            let firmware = t.stringList("firmware") ?? ["bios", "uefi"]
            for f in firmware where !["bios", "uefi"].contains(f) {
                sink.report(t.value("firmware"), "iso firmware '\(f)' is not bios or uefi")
            }
            targets.iso = ISOTarget(
                base: ref(t, "iso", "base"), models: ref(t, "iso", "models"), firmware: firmware,
                splitAbove: size(t, "splitAbove") ?? ByteSize("2GiB")!,
                ollama: enumValue(t, "ollama", OllamaPlacement.self) ?? .container,
                images: enumValue(t, "images", ImageDelivery.self))
            t.finish()
        }
        return targets
    }

    func readInstaller(_ m: MapReader?) -> Installer {
        defer { m?.finish() }
        let secrets =
            m?.list("secrets") { s -> Secret? in
                guard let name = s.string("name", required: true) else { return nil }
                if !Self.isEnvName(name) {
                    self.sink.report(s.value("name"), "secret name '\(name)' is not a valid environment variable name")
                }
                return Secret(name: name, bytes: s.int("bytes", range: 16...256) ?? 32)
            } ?? []
        let prefix = m?.string("prefix") ?? "/opt/unison-platform"
        let envFile = m?.string("envFile") ?? "/etc/unison/platform.env"
        let dataDir = m?.string("dataDir") ?? "/var/lib/unison"
        for (key, value) in [("prefix", prefix), ("envFile", envFile), ("dataDir", dataDir)] where !value.hasPrefix("/") {
            sink.report(m?.value(key), "installer.\(key) must be an absolute path, found '\(value)'")
        }
        let unit = m?.string("unit") ?? "unison-platform.service"
        let firstBoot = m?.string("firstBootUnit") ?? "unison-firstboot.service"
        for (key, value) in [("unit", unit), ("firstBootUnit", firstBoot)] where !value.hasSuffix(".service") {
            sink.report(m?.value(key), "installer.\(key) '\(value)' must name a .service unit")
        }
        var installer = Installer(
            prefix: prefix, envFile: envFile, dataDir: dataDir, unit: unit, firstBootUnit: firstBoot,
            composeProject: m?.string("composeProject") ?? "unison", secrets: secrets,
            env: m?.stringMap("env") ?? [:])
        if let m {
            installer.keysDir = m.string("keysDir") ?? installer.keysDir
            if !installer.keysDir.hasPrefix("/") {
                sink.report(m.value("keysDir"), "installer.keysDir must be an absolute path, found '\(installer.keysDir)'")
            }
            installer.ollama = enumValue(m, "ollama", OllamaPlacement.self) ?? installer.ollama
            installer.fileSecrets =
                m.list("fileSecrets") { f -> FileSecret? in
                    let name = f.string("name", required: true)
                    let file = f.string("file", required: true)
                    let bytes = f.int("bytes", range: 16...256) ?? 32
                    var mode: UInt32 = 0o400
                    if let text = f.string("mode") {
                        switch text {
                        case "0400", "400": mode = 0o400
                        case "0600", "600": mode = 0o600
                        default:
                            self.sink.report(
                                f.value("mode"), "\(f.path).mode '\(text)' must be 0400 or 0600",
                                hint: "secrets are readable by their owner only")
                        }
                    }
                    let uid = f.int("uid", range: 0...65534) ?? 0
                    let gid = f.int("gid", range: 0...65534) ?? uid
                    if let name, !Self.isComposeName(name) {
                        self.sink.report(
                            f.value("name"), "\(f.path).name '\(name)' is not a valid secret name",
                            hint: "lowercase letters, digits, '_' and '-', e.g. unison_bootstrap_token")
                    }
                    if let file, !Self.isComposeName(file) {
                        self.sink.report(
                            f.value("file"), "\(f.path).file '\(file)' must be a plain file name",
                            hint: "lowercase letters, digits, '.', '_' and '-'; no '/'")
                    }
                    guard let name, let file else { return nil }
                    if let node = f.value("name") { self.remember("fileSecret:\(name)", node) }
                    return FileSecret(name: name, file: file, bytes: bytes, mode: mode, uid: UInt32(uid), gid: UInt32(gid))
                } ?? []
        }
        return installer
    }

    func readQA(_ m: MapReader?) -> QA {
        defer { m?.finish() }
        var boot = BootCheck(marker: "UNISONOS-FIRSTBOOT-OK", timeout: 900)
        if let b = m?.map("boot") {
            boot = BootCheck(marker: b.string("marker") ?? boot.marker, timeout: b.int("timeout", range: 1...86400) ?? boot.timeout)
            b.finish()
        }
        func checks(_ key: String) -> [HTTPCheck] {
            m?.list(key) { c -> HTTPCheck? in
                let name = c.string("name", required: true)
                let service = c.string("service", required: true)
                let path = c.string("path", required: true)
                let check = HTTPCheck(
                    name: name ?? "", service: service ?? "", method: c.string("method") ?? "GET",
                    path: path ?? "/", body: c.string("body"), expect: c.int("expect", range: 100...599) ?? 200,
                    expectBody: c.string("expectBody"), expectJSON: c.string("expectJSON"),
                    timeout: c.int("timeout", range: 1...3600))
                if let service, let node = c.value("service") { self.remember("qa:\(key):\(name ?? service).service", node) }
                return name == nil || service == nil || path == nil ? nil : check
            } ?? []
        }
        return QA(boot: boot, smoke: checks("smoke"), e2e: checks("e2e"))
    }

    func readTelemetry(_ m: MapReader?) -> Telemetry {
        defer { m?.finish() }
        return Telemetry(
            enabled: m?.bool("enabled") ?? false, dir: m?.string("dir") ?? "/var/lib/unison/telemetry",
            retentionDays: m?.int("retentionDays", range: 1...3650) ?? 30, fields: m?.stringList("fields") ?? [])
    }

    func readReadme(_ m: MapReader?) -> ReadmePolicy {
        defer { m?.finish() }
        let defaults = [
            ReadmeSection(id: "role", title: "Role", aliases: ["Status"]),
            ReadmeSection(id: "run", title: "Run", aliases: ["Usage"]),
            ReadmeSection(id: "test", title: "Test", aliases: ["Testing"]),
            ReadmeSection(id: "docs", title: "Docs", aliases: ["Documentation"]),
        ]
        let sections = m?.list("sections") { s -> ReadmeSection? in
            guard let id = s.string("id", required: true), let title = s.string("title", required: true) else { return nil }
            return ReadmeSection(id: id, title: title, aliases: s.stringList("aliases") ?? [])
        }
        return ReadmePolicy(sections: sections ?? defaults)
    }

    func readCompatibility(_ m: MapReader?) -> Compatibility {
        defer { m?.finish() }
        let repo = m?.string("repo") ?? "unison-docs"
        if let node = m?.value("repo") { remember("compatibility.repo", node) }
        return Compatibility(repo: repo, file: m?.string("file") ?? "dev/compatibility-matrix.md")
    }

    // MARK: helpers

    private func remember(_ key: String, _ node: Node) {
        if locations[key] == nil { locations[key] = node } else { locations[key + "#dup\(locations.count)"] = node }
    }

    /// A reference field of a target (`base`, `models`), remembered for the validator.
    private func ref(_ t: MapReader, _ target: String, _ key: String) -> String {
        let value = t.string(key, required: true) ?? ""
        if let node = t.value(key) { remember("target:\(target).\(key)", node) }
        return value
    }

    private func size(_ m: MapReader, _ key: String) -> ByteSize? {
        guard let node = m.value(key) else { return nil }
        guard let text = m.scalarString(node, "\(m.path).\(key)") else { return nil }
        guard let size = ByteSize(text), size.bytes > 0 else {
            sink.report(node, "\(m.path).\(key) '\(text)' is not a size", hint: "write e.g. 8GB or 4GiB")
            return nil
        }
        return size
    }

    private func formatList(_ t: MapReader, allowed: [String], default def: [String]) -> [String] {
        guard let formats = t.stringList("formats") else { return def }
        for f in formats where !allowed.contains(f) {
            sink.report(
                t.value("formats"), "\(t.path).formats has unknown format '\(f)'",
                hint: "one of: " + allowed.joined(separator: ", "))
        }
        return formats
    }

    static func isLowercaseName(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "._-".contains($0) }
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let first = s.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
