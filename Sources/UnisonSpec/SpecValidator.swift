import UnisonCore
import UnisonYAML

/// Checks what no single section can: duplicate names, references between sections,
/// dependency cycles, image pins and port clashes.
struct SpecValidator {
    let located: LocatedSpec
    let sink: DiagnosticSink
    let ruleCheck: SpecLoader.ChannelRuleCheck?

    init(spec: LocatedSpec, sink: DiagnosticSink, ruleCheck: SpecLoader.ChannelRuleCheck? = nil) {
        self.located = spec
        self.sink = sink
        self.ruleCheck = ruleCheck
    }

    var spec: PlatformSpec { located.spec }

    func validate() {
        checkDuplicates()
        checkImages()
        checkDependencies()
        checkTargets()
        checkPorts()
        checkSecretsAndProfiles()
        checkReferences()
        checkChannelRules()
    }

    private func checkChannelRules() {
        guard let ruleCheck else { return }
        for channel in spec.channels {
            for (kind, field, lines) in [
                (SpecLoader.ChannelRuleKind.tag, "tags", channel.tags),
                (.flavor, "flavor", channel.flavor),
            ] {
                for (i, line) in lines.enumerated() {
                    if let problem = ruleCheck(kind, line) {
                        sink.report(
                            located.node("channel:\(channel.name).\(field)[\(i)]") ?? located.node("channel:\(channel.name)"),
                            "channel '\(channel.name)' \(field) rule '\(line)': \(problem)",
                            hint: "rules are docker/metadata-action lines, e.g. type=semver,pattern={{version}}")
                    }
                }
            }
        }
    }

    private func checkDuplicates() {
        for (prefix, what) in [("repo", "repo"), ("service", "service"), ("pack", "model pack"), ("base", "base")] {
            for (key, node) in located.locations where key.hasPrefix("\(prefix):") && key.contains("#dup") {
                let name = node.scalar?.string ?? ""
                guard key.hasPrefix("\(prefix):\(name)#dup") else { continue }
                let first = located.node("\(prefix):\(name)")?.mark
                sink.report(
                    node, "duplicate \(what) name '\(name)'",
                    hint: first.map { "first declared at \($0.line):\($0.column)" })
            }
        }
    }

    private func checkImages() {
        for service in spec.allServices where !service.image.isEmpty {
            let node = located.node("service:\(service.name).image") ?? located.node("service:\(service.name)")
            guard let image = ImageName(service.image) else {
                sink.report(
                    node, "malformed image reference '\(service.image)' for service '\(service.name)'",
                    hint: "write host/namespace/name:tag, e.g. docker.io/library/redis:7")
                continue
            }
            switch service.kind {
            case .infrastructure:
                if image.tag == nil && image.digest == nil {
                    sink.report(node, "infrastructure image '\(service.image)' is not pinned", hint: "add a tag such as :15")
                } else if image.tag == "latest" && image.digest == nil {
                    sink.report(
                        node, "infrastructure image '\(service.image)' uses the mutable tag 'latest'",
                        hint: "pin a version tag or a digest")
                }
            case .platform:
                let repoName = service.repo ?? ""
                let published = spec.repo(named: repoName)?.images ?? [repoName]
                let expected = (published.isEmpty ? [repoName] : published).map { "\(spec.platform.imagePrefix)/\($0)" }
                if !expected.contains(service.image) {
                    sink.report(
                        node,
                        "image '\(service.image)' of service '\(service.name)' is not "
                            + expected.map { "'\($0)'" }.joined(separator: " or "),
                        hint: "platform images are published as <registry>/<org>/<image>, without a tag, where "
                            + "<image> is one of the repo's images (default: the repo's name)")
                }
            }
        }
    }

    private func checkDependencies() {
        let names = Set(spec.allServices.map(\.name))
        for service in spec.allServices {
            for (i, dep) in service.dependsOn.enumerated() where !names.contains(dep) {
                sink.report(
                    located.node("service:\(service.name).dependsOn[\(i)]") ?? located.node("service:\(service.name)"),
                    "service '\(service.name)' depends on unknown service '\(dep)'",
                    hint: suggestion(for: dep, among: Array(names)).map { "did you mean '\($0)'?" })
            }
            if service.dependsOn.contains(service.name) {
                sink.report(located.node("service:\(service.name).dependsOn"), "service '\(service.name)' depends on itself")
            }
        }
        // Depth-first search; each cycle is reported once, at the service that closes it.
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        var reported: Set<Set<String>> = []
        let byName = Dictionary(spec.allServices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func visit(_ name: String) {
            state[name] = 1
            stack.append(name)
            for dep in byName[name]?.dependsOn ?? [] where dep != name && byName[dep] != nil {
                if state[dep] == 1, let start = stack.firstIndex(of: dep) {
                    let cycle = Array(stack[start...])
                    if reported.insert(Set(cycle)).inserted {
                        let i = byName[name]?.dependsOn.firstIndex(of: dep) ?? 0
                        sink.report(
                            located.node("service:\(name).dependsOn[\(i)]") ?? located.node("service:\(name)"),
                            "dependency cycle: " + (cycle + [dep]).joined(separator: " -> "),
                            hint: "remove one of these dependencies")
                    }
                } else if state[dep] == nil {
                    visit(dep)
                }
            }
            stack.removeLast()
            state[name] = 2
        }
        for service in spec.allServices where state[service.name] == nil { visit(service.name) }
    }

    private func checkTargets() {
        let packs = spec.models.packs.map(\.name)
        let bases = spec.bases.map(\.name)
        let refs: [(String, String?, String?)] = [
            ("wsl", spec.targets.wsl?.base, spec.targets.wsl?.models),
            ("vm", spec.targets.vm?.base, spec.targets.vm?.models),
            ("iso", spec.targets.iso?.base, spec.targets.iso?.models),
        ]
        for (target, base, pack) in refs {
            if let base, !base.isEmpty, !bases.contains(base) {
                sink.report(
                    located.node("target:\(target).base"), "target '\(target)' names unknown base '\(base)'",
                    hint: hintList(base, bases))
            }
            if let pack, !pack.isEmpty, !packs.contains(pack) {
                sink.report(
                    located.node("target:\(target).models"), "target '\(target)' names unknown model pack '\(pack)'",
                    hint: hintList(pack, packs))
            }
        }
    }

    /// Host ports must not clash (container ports may: each container has its own network
    /// namespace, and several real images listen on 8080).
    private func checkPorts() {
        var seen: [Int: String] = [:]
        for service in spec.allServices where service.port != 0 {
            for (host, _) in service.publishedPorts {
                if let other = seen[host], other != service.name {
                    sink.report(
                        located.node("service:\(service.name).hostPort") ?? located.node("service:\(service.name)"),
                        "service '\(service.name)' publishes host port \(host), already published by '\(other)'",
                        hint: "give one of them another hostPort")
                } else {
                    seen[host] = service.name
                }
            }
        }
    }

    /// File secrets named by services exist; a service that is always on does not wait for
    /// one that only a compose profile starts.
    private func checkSecretsAndProfiles() {
        let secrets = spec.installer.fileSecrets.map(\.name)
        var files: [String: String] = [:]
        for secret in spec.installer.fileSecrets {
            if let other = files[secret.file] {
                sink.report(
                    located.node("fileSecret:\(secret.name)"),
                    "file secrets '\(other)' and '\(secret.name)' share the file '\(secret.file)'")
            }
            files[secret.file] = secret.name
        }
        for service in spec.allServices {
            for (i, name) in service.secrets.enumerated() where !secrets.contains(name) {
                sink.report(
                    located.node("service:\(service.name).secrets[\(i)]") ?? located.node("service:\(service.name)"),
                    "service '\(service.name)' mounts unknown file secret '\(name)'",
                    hint: secrets.isEmpty ? "declare it under installer.fileSecrets" : hintList(name, secrets))
            }
            for (i, dep) in service.dependsOn.enumerated() {
                guard let target = spec.service(named: dep), !target.profiles.isEmpty else { continue }
                if service.profiles.isEmpty || !Set(service.profiles).isSubset(of: Set(target.profiles)) {
                    sink.report(
                        located.node("service:\(service.name).dependsOn[\(i)]") ?? located.node("service:\(service.name)"),
                        "service '\(service.name)' depends on '\(dep)', which only the profiles "
                            + target.profiles.joined(separator: ", ") + " start",
                        hint: "give '\(service.name)' the same profiles, or drop the dependency")
                }
            }
        }
    }

    private func checkReferences() {
        let repos = spec.repos.map(\.name)
        if !repos.contains(spec.compatibility.repo) {
            sink.report(
                located.node("compatibility.repo"), "compatibility.repo names unknown repo '\(spec.compatibility.repo)'",
                hint: hintList(spec.compatibility.repo, repos))
        }
        let services = spec.allServices.map(\.name)
        for (key, node) in located.locations where key.hasPrefix("qa:") {
            let name = node.scalar?.string ?? ""
            if !services.contains(name) {
                sink.report(node, "QA check names unknown service '\(name)'", hint: hintList(name, services))
            }
        }
    }

    private func hintList(_ word: String, _ candidates: [String]) -> String {
        if let s = suggestion(for: word, among: candidates) { return "did you mean '\(s)'?" }
        return "known: " + candidates.joined(separator: ", ")
    }
}
