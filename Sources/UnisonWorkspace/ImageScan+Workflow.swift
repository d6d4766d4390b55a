import UnisonCore

/// GitHub Actions workflows: the images jobs run in, the images steps build and push, and
/// whether the workflow pushes at all (docker/build-push-action or docker/bake-action with
/// `push:` not false, `docker push`, `docker buildx build --push`, push-to-registry, or a
/// reusable workflow that does).
struct WorkflowScan {
    var mentions: [ImageMention] = []
    /// Lines where an image is pushed.
    var pushLines: [Int] = []
    /// Job-level `uses:` of reusable workflows (`./.github/workflows/x.yml`,
    /// `owner/repo/.github/workflows/x.yml@ref`).
    var calls: [(uses: String, line: Int)] = []

    var pushes: Bool { !pushLines.isEmpty }
}

extension ImageScan {
    /// Reads a workflow. `context` resolves `github.*` expressions (nil when unknowable);
    /// `env.*` is resolved from the workflow's, job's and step's `env:` maps.
    static func workflow(_ text: String, file: String, context: @escaping (String) -> String?) -> WorkflowScan {
        let root = BlockYAML(text).root
        var scan = WorkflowScan()
        let workflowEnv = envMap(root["env"])
        for job in root["jobs"]?.entries ?? [] {
            let jobEnv = workflowEnv.merging(envMap(job.value["env"])) { $1 }
            if let uses = job.value["uses"]?.scalar { scan.calls.append((uses.text, uses.line)) }

            func resolver(_ env: [String: String]) -> (String) -> String? {
                { expression in
                    if expression.hasPrefix("env.") {
                        return env[String(expression.dropFirst(4))].map { Interpolation.github($0, context) }
                    }
                    return context(expression)
                }
            }
            let jobResolve = resolver(jobEnv)

            var containers: [BlockYAML.Node] = []
            if let container = job.value["container"] { containers.append(container) }
            containers += job.value["services"]?.entries.map(\.value) ?? []
            for node in containers {
                guard let image = node.scalar ?? node["image"]?.scalar else { continue }
                scan.mentions.append(
                    ImageMention(
                        text: Interpolation.github(image.text, jobResolve), written: image.text,
                        file: file, line: image.line, use: .run))
            }

            for step in job.value["steps"]?.items ?? [] {
                let stepEnv = jobEnv.merging(envMap(step["env"])) { $1 }
                let resolve = resolver(stepEnv)
                let with = step["with"]
                if let uses = step["uses"]?.scalar {
                    let action = uses.text.lowercased().split(separator: "@").first.map(String.init) ?? ""
                    if uses.text.hasPrefix("docker://") {
                        let ref = String(uses.text.dropFirst("docker://".count))
                        scan.mentions.append(
                            ImageMention(text: Interpolation.github(ref, resolve), written: ref, file: file, line: uses.line, use: .run))
                    }
                    if action == "docker/metadata-action" {
                        for line in with?["images"]?.textLines ?? [] {
                            for entry in metadataImages(line.text) {
                                scan.mentions.append(
                                    ImageMention(
                                        text: Interpolation.github(entry, resolve), written: entry, file: file,
                                        line: line.number, use: .publish, nameOnly: true))
                            }
                        }
                    }
                    if action == "docker/build-push-action" || action == "docker/bake-action" {
                        var pushes = false
                        if let push = with?["push"]?.scalar, push.text.lowercased() != "false" {
                            scan.pushLines.append(push.line)
                            pushes = true
                        }
                        for line in with?["tags"]?.textLines ?? [] {
                            for tag in line.text.split(separator: ",").map({ String($0).trimmingSpaces }) where !tag.isEmpty {
                                scan.mentions.append(
                                    ImageMention(
                                        text: Interpolation.github(tag, resolve), written: tag, file: file,
                                        line: line.number, use: pushes ? .publish : .localTag))
                            }
                        }
                    }
                    if action == "redhat-actions/push-to-registry" { scan.pushLines.append(uses.line) }
                }
                if let run = step["run"] {
                    let result = shell(run.textLines, environment: stepEnv, resolve: resolve, file: file)
                    scan.mentions += result.mentions
                    scan.pushLines += result.pushLines
                }
            }
        }
        return scan
    }

    /// One line of metadata-action's `images:` input: `ghcr.io/x/y`, or CSV attributes with
    /// `name=ghcr.io/x/y` (an `enable=` attribute is ignored).
    static func metadataImages(_ line: String) -> [String] {
        let parts = line.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        if let named = parts.first(where: { $0.hasPrefix("name=") }) { return [String(named.dropFirst(5))] }
        return parts.filter { !$0.contains("=") }
    }

    static func envMap(_ node: BlockYAML.Node?) -> [String: String] {
        var env: [String: String] = [:]
        for entry in node?.entries ?? [] {
            if let value = entry.value.scalar { env[entry.key] = value.text }
        }
        return env
    }

    /// The docker commands of a `run:` script: `docker build|buildx build -t REF [--push]`,
    /// `docker push REF`, `docker tag SRC DST`, `docker pull REF`. Backslash continuations are
    /// joined; `NAME=value` assignments earlier in the script are used for `$NAME`.
    static func shell(
        _ lines: [BlockYAML.TextLine], environment: [String: String], resolve: (String) -> String?,
        file: String
    ) -> WorkflowScan {
        var scan = WorkflowScan()
        var logical: [(Int, String)] = []
        var pending = "", pendingLine = 0
        for line in lines {
            if pending.isEmpty { pendingLine = line.number }
            if line.text.hasSuffix("\\") { pending += line.text.dropLast() + " "; continue }
            logical.append((pendingLine, pending + line.text))
            pending = ""
        }
        if !pending.isEmpty { logical.append((pendingLine, pending)) }

        var variables = environment.mapValues { Interpolation.github($0, resolve) }
        for (number, raw) in logical {
            let line = Interpolation.github(raw, resolve)
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { token -> String in
                var t = String(token)
                while let f = t.first, f == "\"" || f == "'" { t.removeFirst() }
                while let l = t.last, l == "\"" || l == "'" || l == ";" { t.removeLast() }
                return t
            }
            // `NAME=value` / `export NAME=value` on a line of its own.
            let assignment = tokens.first == "export" ? Array(tokens.dropFirst()) : tokens
            if assignment.count == 1, let eq = assignment[0].firstIndex(of: "="), assignment[0].first?.isLetter == true {
                let name = String(assignment[0][..<eq])
                if name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                    variables[name] = Interpolation.shell(String(assignment[0][assignment[0].index(after: eq)...])) { variables[$0] }
                }
                continue
            }
            func value(_ token: String) -> String { Interpolation.shell(token) { variables[$0] } }
            for (k, token) in tokens.enumerated() where token == "docker" || token == "podman" {
                var args = Array(tokens[(k + 1)...])
                if args.first == "image" { args.removeFirst() }
                if args.first == "buildx" { args.removeFirst() }
                guard let command = args.first else { continue }
                let rest = Array(args.dropFirst().prefix { !["&&", "||", "|", ";"].contains($0) })
                let operands = nonFlagOperands(rest)
                switch command {
                case "build":
                    var i = 0
                    while i < rest.count {
                        let a = rest[i]
                        if a == "-t" || a == "--tag", i + 1 < rest.count {
                            scan.mentions.append(
                                ImageMention(text: value(rest[i + 1]), written: rest[i + 1], file: file, line: number, use: .localTag))
                            i += 1
                        } else if a.hasPrefix("--tag=") {
                            let ref = String(a.dropFirst(6))
                            scan.mentions.append(ImageMention(text: value(ref), written: ref, file: file, line: number, use: .localTag))
                        } else if a == "--push" || a.contains("type=registry") || a == "--output=type=image,push=true" {
                            scan.pushLines.append(number)
                        }
                        i += 1
                    }
                case "bake":
                    if rest.contains("--push") { scan.pushLines.append(number) }
                case "push":
                    if let ref = operands.first {
                        scan.mentions.append(ImageMention(text: value(ref), written: ref, file: file, line: number, use: .publish))
                        scan.pushLines.append(number)
                    }
                case "tag":
                    if operands.count >= 2 {
                        scan.mentions.append(ImageMention(text: value(operands[1]), written: operands[1], file: file, line: number, use: .localTag))
                    }
                case "pull":
                    if let ref = operands.first {
                        scan.mentions.append(ImageMention(text: value(ref), written: ref, file: file, line: number, use: .run))
                    }
                default:
                    continue
                }
            }
        }
        return scan
    }

    /// Operands of a docker subcommand: tokens that are not flags (flags of these commands
    /// that take a value are written `--flag=value` or are followed by it; the common ones
    /// with a separate value are skipped with it).
    private static func nonFlagOperands(_ tokens: [String]) -> [String] {
        let withValue: Set<String> = ["--platform", "-a", "--all-tags", "--disable-content-trust"]
        var out: [String] = []
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            if t.hasPrefix("-") {
                if withValue.contains(t), t == "--platform" { i += 1 }
            } else {
                out.append(t)
            }
            i += 1
        }
        return out
    }
}
