import FoundationEssentials
import UnisonCore
import UnisonSpec

/// GHCR usage: image references in Compose files, Dockerfiles and workflows, and whether each
/// service repo has a workflow that pushes its image.
extension WorkspaceCheck.Context {
    mutating func checkImages(_ located: WorkspaceCheck.Located) {
        let policy = ImagePolicy(spec: spec)
        let files = ImageScan.files(in: located.directory)
        var mentions: [(ImageMention, release: Bool)] = []
        for file in files.compose {
            guard let text = try? String(contentsOf: located.directory.appendingPathComponent(file), encoding: .utf8) else { continue }
            let envURL = located.directory.appendingPathComponent(file).deletingLastPathComponent().appendingPathComponent(".env")
            let environment = (try? String(contentsOf: envURL, encoding: .utf8)).map(ImageScan.dotEnv) ?? [:]
            // The platform repo's Compose files are the release bundle.
            let release = located.repo.role == .platform
            mentions += ImageScan.compose(text, file: file, environment: environment).map { ($0, release) }
        }
        for file in files.dockerfiles {
            guard let text = try? String(contentsOf: located.directory.appendingPathComponent(file), encoding: .utf8) else { continue }
            mentions += ImageScan.dockerfile(text, file: file).map { ($0, false) }
        }
        var pushes: [String] = []
        var unverified: [(String, Int, String)] = []
        for file in files.workflows {
            guard let scan = workflowScan(located, file) else { continue }
            mentions += scan.mentions.map { ($0, false) }
            if scan.pushes { pushes.append(file) }
            for call in scan.calls {
                switch reusablePushes(call.uses, from: located, depth: 0) {
                case .some(true): pushes.append(file)
                case .some(false): break
                case .none: unverified.append((file, call.line, call.uses))
                }
            }
        }
        for (mention, release) in mentions {
            findings += judge(mention, in: located, release: release, policy: policy)
        }

        // Repos whose image the platform's stack runs must publish it (repos of the spec
        // outside the stack, such as unison-actuation, are not held to it).
        guard located.repo.role == .service, !located.repo.services.isEmpty else { return }
        if pushes.isEmpty, let (file, line, uses) = unverified.first {
            findings.append(
                Finding(
                    .ghcrNoPushWorkflow, .info, repo: located.repo.name, file: located.display(file), line: line,
                    "publishes through the reusable workflow \(uses), which is not in the workspace; not verified",
                    hint: "add the repository that holds it to the workspace to verify that it pushes"))
        } else if pushes.isEmpty {
            let service = located.repo.services.first ?? located.repo.name
            let image = spec.service(named: service)?.image ?? "\(spec.platform.imagePrefix)/\(located.repo.name)"
            findings.append(
                Finding(
                    .ghcrNoPushWorkflow, .error, repo: located.repo.name,
                    file: files.workflows.isEmpty ? nil : located.display(".github/workflows"),
                    "no workflow of \(located.repo.name) pushes its image \(image)",
                    hint: "unisonctl ci workflow --service \(service) --output \(located.display(".github/workflows/publish.yml"))"))
        }
    }

    /// `sha256:` and 64 lowercase hex digits (or `sha512:` and 128), as the OCI image spec's
    /// registered algorithms require.
    static func isDigest(_ text: String) -> Bool {
        for (algorithm, length) in [("sha256:", 64), ("sha512:", 128)] where text.hasPrefix(algorithm) {
            let hex = text.dropFirst(algorithm.count)
            return hex.count == length && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        }
        return false
    }

    func workflowScan(_ located: WorkspaceCheck.Located, _ file: String) -> WorkflowScan? {
        guard let text = try? String(contentsOf: located.directory.appendingPathComponent(file), encoding: .utf8) else { return nil }
        let org = spec.platform.org, repoName = located.repo.name
        return ImageScan.workflow(text, file: file) { expression in
            switch expression {
            case "github.repository_owner": return org
            case "github.repository": return "\(org)/\(repoName)"
            case "github.event.repository.name": return repoName
            default: return nil
            }
        }
    }

    /// Whether the reusable workflow `uses` pushes: true or false when it can be read (in this
    /// repo, or in a repo of the workspace), nil when it lives outside the workspace in the
    /// platform's organisation (trusted but not verified). Other organisations' workflows: false.
    func reusablePushes(_ uses: String, from located: WorkspaceCheck.Located, depth: Int) -> Bool? {
        guard depth < 4 else { return false }
        let target: WorkspaceCheck.Located
        let path: String
        if uses.hasPrefix("./") {
            target = located
            path = String(uses.dropFirst(2))
        } else {
            let withoutRef = uses.split(separator: "@").first.map(String.init) ?? uses
            let parts = withoutRef.split(separator: "/", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { return false }
            guard parts[0].lowercased() == spec.platform.org.lowercased() else { return false }
            guard let found = repos.first(where: { $0.repo.name.lowercased() == parts[1].lowercased() }) else { return nil }
            target = found
            path = parts[2]
        }
        guard let scan = workflowScan(target, path) else { return false }
        if scan.pushes { return true }
        for call in scan.calls where reusablePushes(call.uses, from: target, depth: depth + 1) == true { return true }
        return false
    }

    func judge(_ mention: ImageMention, in located: WorkspaceCheck.Located, release: Bool, policy: ImagePolicy) -> [Finding] {
        guard let ref = ImageReference(mention.text), ref.nameIsResolved else { return [] }
        // A local build name (`docker build -t app:ci`) is not a registry reference.
        if mention.use == .localTag, ref.host == nil { return [] }
        let file = located.display(mention.file)
        let shown = ImageReference.display(mention.text)
        let name = located.repo.name
        var out: [Finding] = []
        if let digest = ref.digest, !digest.contains(ImageReference.unresolved), !Self.isDigest(digest) {
            return [
                Finding(
                    .ghcrBadReference, .error, repo: name, file: file, line: mention.line,
                    "image \(shown) has an invalid digest '\(digest)' (expected sha256: and 64 lowercase hex digits)",
                    hint: "pin the digest the registry reports (skopeo inspect docker://\(ref.canonicalName):<tag> shows it)")
            ]
        }
        if policy.isOwn(ref) {
            let expected = policy.expectedName(ref)
            let actual = "\(ref.host ?? "docker.io")/\(ref.path)"
            if actual != expected {
                var reasons: [String] = []
                if (ref.host ?? "docker.io").lowercased() != policy.registry {
                    reasons.append("registry \(ref.host ?? "docker.io (implied)") instead of \(policy.registry)")
                }
                let namespace = ref.components.dropLast().joined(separator: "/")
                if namespace.lowercased() != policy.org { reasons.append("namespace '\(namespace)' instead of '\(policy.org)'") }
                if actual != actual.lowercased() { reasons.append("uppercase letters (image names are lowercase)") }
                if reasons.isEmpty { reasons.append("expected \(expected)") }
                out.append(
                    Finding(
                        .ghcrBadReference, .error, repo: name, file: file, line: mention.line,
                        "image \(shown) does not follow \(policy.registry)/\(policy.org)/<repo>: \(reasons.joined(separator: "; "))",
                        hint: "use \(expected)\(ref.tag.map { ":" + $0 } ?? "")"))
            } else if !spec.repos.contains(where: { $0.name == ref.repositoryName || $0.images.contains(ref.repositoryName) }) {
                out.append(
                    Finding(
                        .ghcrBadReference, .warning, repo: name, file: file, line: mention.line,
                        "image \(shown) names '\(ref.repositoryName)', which is no repo of the spec and no image one publishes",
                        hint: "add the repo to unison.yaml, or use the image of an existing repo"))
            }
            if mention.use == .publish || mention.use == .localTag || mention.use == .localBuild || mention.nameOnly { return out }
            if ref.digest != nil || ref.tagIsParameterized { return out }
            let tag = ref.tag
            if release {
                if tag == nil || !policy.isReleasePin(tag!) {
                    out.append(
                        Finding(
                            .ghcrMutableTag, .error, repo: name, file: file, line: mention.line,
                            "release image \(shown) is not pinned: \(tag.map { "tag '\($0)' is not a version" } ?? "no tag (implies 'latest')")",
                            hint: "pin it by version (\(expected):v\(spec.platform.version)) or by digest (@sha256:…)"))
                }
            } else if tag == nil || !policy.isChannelTag(tag!) {
                let what =
                    tag.map { $0 == "latest" ? "tag 'latest' moves with every stable release" : "tag '\($0)' is not one the spec's channels publish" }
                    ?? "no tag (implies 'latest')"
                out.append(
                    Finding(
                        .ghcrMutableTag, .warning, repo: name, file: file, line: mention.line,
                        "image \(shown): \(what)",
                        hint: "use a channel tag (edge-main for nightly), a version (v\(spec.platform.version)) or a digest"))
            }
            return out
        }
        // Third-party images.
        if mention.use == .publish || mention.use == .localTag || mention.use == .localBuild { return out }
        if ref.digest != nil || ref.tagIsParameterized { return out }
        if ref.tag == nil || ref.tag == "latest" {
            out.append(
                Finding(
                    .ghcrThirdPartyUnpinned, release ? .error : .warning, repo: name, file: file, line: mention.line,
                    "third-party image \(shown) is not pinned (\(ref.tag == nil ? "no tag" : "tag 'latest'"))",
                    hint: "pin a version tag (e.g. \(ref.canonicalName):<version>) or a digest"))
        }
        return out
    }
}
