import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

@Suite(.tags(.unit)) struct ImageParsingTests {
    @Test(
        arguments: [
            ("ghcr.io/project-unisonos/unison-auth:v1.2.3", "ghcr.io", "project-unisonos/unison-auth", "v1.2.3", nil),
            ("localhost:5000/x/y", "localhost:5000", "x/y", nil, nil),
            ("postgres:15", nil, "postgres", "15", nil),
            ("unisonos/unison-auth@sha256:abc", nil, "unisonos/unison-auth", nil, "sha256:abc"),
            ("registry:5000/a:b@sha256:c", "registry:5000", "a", "b", "sha256:c"),
        ] as [(String, String?, String, String?, String?)])
    func referencesSplit(_ text: String, _ host: String?, _ path: String, _ tag: String?, _ digest: String?) throws {
        let ref = try #require(ImageReference(text))
        #expect(ref.host == host && ref.path == path && ref.tag == tag && ref.digest == digest)
    }

    @Test func canonicalNamesFollowDockerDefaults() {
        #expect(ImageReference("postgres")?.canonicalName == "docker.io/library/postgres")
        #expect(ImageReference("ollama/ollama:0.5")?.canonicalName == "docker.io/ollama/ollama")
        #expect(ImageReference("two words") == nil)
    }

    @Test(
        arguments: [
            ("${REG:-ghcr.io}/x:${TAG}", ["TAG": "v1"], "ghcr.io/x:v1"),
            ("$REG/x:${TAG-edge}", [:], "\u{1}/x:edge"),
            ("a:${T:-latest}", ["T": ""], "a:latest"),
            ("a:${T-latest}", ["T": ""], "a:"),
            ("$$literal", [:], "$literal"),
            ("a:${T:?set T}", [:], "a:\u{1}"),
        ] as [(String, [String: String], String)])
    func shellInterpolation(_ text: String, _ env: [String: String], _ expected: String) {
        #expect(Interpolation.shell(text) { env[$0] } == expected)
    }

    @Test func githubExpressions() {
        let resolved = Interpolation.github("ghcr.io/${{ github.repository_owner }}/x:${{ steps.meta.outputs.version }}") {
            $0 == "github.repository_owner" ? "org" : nil
        }
        #expect(resolved == "ghcr.io/org/x:\u{1}")
    }

    @Test(arguments: [
        ("type=raw,value=edge-main,enable={{is_default_branch}}", "edge-main", true),
        ("type=raw,value=edge-main,enable={{is_default_branch}}", "edge-main-1", false),
        ("type=raw,value=edge-main-{{date 'YYYYMMDD'}},enable={{is_default_branch}}", "edge-main-20250131", true),
        ("type=raw,value=edge-main-{{date 'YYYYMMDD'}}", "edge-main-2025013", false),
        ("type=sha,prefix=sha-", "sha-1a2b3c4", true),
        ("type=sha,prefix=sha-", "sha-1a2b3c", false),
        ("type=sha,prefix=sha-", "sha-XYZ1234", false),
        // The project's nightly: edge-<branch>-YYYYMMDD, <branch>-<sha7>, <sha7>.
        ("type=raw,value=edge-{{branch}}-{{date 'YYYYMMDD'}}", "edge-main-20250131", true),
        ("type=raw,value=edge-{{branch}}-{{date 'YYYYMMDD'}}", "edge-master-20250131", true),
        ("type=raw,value=edge-{{branch}}-{{date 'YYYYMMDD'}}", "edge-main-2025013", false),
        ("type=sha,prefix={{branch}}-", "master-1a2b3c4", true),
        ("type=sha,prefix={{branch}}-", "feature-x-1a2b3c4", true),
        ("type=sha,prefix={{branch}}-", "1a2b3c4", false),
        ("type=sha,prefix=", "1a2b3c4", true),
        ("type=sha,prefix=", "latest", false),
    ])
    func channelTagShapes(_ rule: String, _ tag: String, _ matches: Bool) throws {
        #expect(try #require(TagMatcher(rule: rule)).matches(tag) == matches)
    }

    @Test func blockYAMLKeepsLines() throws {
        let yaml = BlockYAML(
            """
            # comment
            name: ci   # trailing
            on: [push]
            jobs:
              build:
                services:
                  db:
                    image: "postgres:15"
                steps:
                  - uses: actions/checkout@v4
                  - name: multi
                    with:
                      images: |
                        ghcr.io/a/b
                        # not a comment in a block
                      push: true
                  -
                    run: >-
                      docker push x
            list:
            - a
            - 'b'' c'
            """)
        #expect(yaml.root["name"]?.scalar?.text == "ci")
        #expect(yaml.root["on"]?.scalar?.text == "[push]")
        let build = try #require(yaml.root["jobs"]?["build"])
        #expect(build["services"]?["db"]?["image"]?.scalar?.text == "postgres:15")
        #expect(build["services"]?["db"]?["image"]?.scalar?.line == 8)
        let steps = build["steps"]?.items ?? []
        #expect(steps.count == 3)
        #expect(steps[0]["uses"]?.scalar?.line == 10)
        #expect(
            steps[1]["with"]?["images"]?.textLines == [.init(number: 14, text: "ghcr.io/a/b"), .init(number: 15, text: "# not a comment in a block")])
        #expect(steps[1]["with"]?["push"]?.scalar?.text == "true")
        #expect(steps[2]["run"]?.textLines.first?.number == 19)
        #expect(yaml.root["list"]?.items.compactMap(\.scalar?.text) == ["a", "b' c"])
    }
}

/// Image references in Compose files, Dockerfiles and workflows, and publishing workflows,
/// on real repositories.
@Suite(.tags(.interop)) struct ImageRuleTests {
    static func key(_ f: Finding) -> String {
        "\(f.location) \(f.severity.rawValue) \(f.rule.rawValue)"
    }

    @Test func imageReferencesAreJudgedWhereTheyAre() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let meta = try ImageRuleWorkspace.workspace(sandbox, spec: spec)
        let report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        let images = report.findings.filter { $0.rule.rawValue.hasPrefix("ghcr.") }
        let expected: Set<String> = [
            // devstack: channel tags are fine, mutable ones are warnings
            "unison-devstack/docker-compose.yml:5 warning ghcr.mutable-tag",
            "unison-devstack/docker-compose.yml:7 error ghcr.bad-reference",
            "unison-devstack/docker-compose.yml:9 warning ghcr.bad-reference",
            "unison-devstack/docker-compose.yml:14 warning ghcr.third-party-unpinned",
            "unison-devstack/docker-compose.yml:16 warning ghcr.third-party-unpinned",
            "unison-devstack/docker-compose.yml:18 warning ghcr.mutable-tag",
            "unison-devstack/docker-compose.yml:22 error ghcr.bad-reference",
            // the release bundle: a pin is required
            "unison-platform/compose/compose.yaml:3 error ghcr.mutable-tag",
            "unison-platform/compose/compose.yaml:9 error ghcr.third-party-unpinned",
            "unison-platform/compose/compose.yaml:11 error ghcr.bad-reference",
            "unison-platform/compose/compose.yaml:13 error ghcr.mutable-tag",
            // Dockerfile: stages and ARG-resolved bases
            "unison-auth/Dockerfile:5 warning ghcr.third-party-unpinned",
            "unison-auth/Dockerfile:7 warning ghcr.mutable-tag",
            "unison-auth/Dockerfile:7 warning ghcr.bad-reference",
            // workflows
            "unison-orchestrator/.github/workflows/publish.yml:9 warning ghcr.third-party-unpinned",
            "unison-orchestrator/.github/workflows/publish.yml:16 error ghcr.bad-reference",
            "unison-orchestrator/.github/workflows/publish.yml:20 warning ghcr.bad-reference",
            "unison-orchestrator/.github/workflows/publish.yml:21 error ghcr.bad-reference",
            // publishing: auth's only workflow builds without pushing
            "unison-auth/.github/workflows error ghcr.no-push-workflow",
        ]
        #expect(Set(images.map(Self.key)) == expected, "\(images.described)")
        #expect(images.count == expected.count)
        let wrongRegistry = try #require(images.first { $0.location == "unison-devstack/docker-compose.yml:7" })
        #expect(wrongRegistry.message.contains("registry docker.io") && wrongRegistry.message.contains("namespace 'unisonos'"))
        #expect(wrongRegistry.hint == "use ghcr.io/project-unisonos/unison-policy:v0.4.0")
        #expect(images.first { $0.location == "unison-platform/compose/compose.yaml:11" }?.message.contains("uppercase") == true)
        #expect(images.first { $0.rule == .ghcrNoPushWorkflow }?.hint.contains("unisonctl ci workflow --service auth") == true)
    }

    @Test func publishingIsVerifiedThroughReusableWorkflows() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let meta = try ImageRuleWorkspace.workspace(sandbox, spec: spec)
        let policy = meta.appendingPathComponent("unison-policy")
        // The reusable workflow stops pushing: policy no longer publishes.
        try sandbox.commit(
            meta.appendingPathComponent("unison-platform"), ".github/workflows/reusable-build.yml",
            ImageRuleWorkspace.reusableBuild.replacingOccurrences(of: "push: ${{ github.event_name != 'pull_request' }}", with: "push: false"))
        var report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        #expect(report.findings.with(.ghcrNoPushWorkflow).map(\.repo) == ["unison-auth", "unison-policy"])

        // A reusable workflow of the organisation outside the workspace: trusted, reported as info.
        try sandbox.commit(
            policy, ".github/workflows/publish.yml",
            ImageRuleWorkspace.policyWorkflow.replacingOccurrences(of: "unison-platform/", with: "unison-infra/"))
        report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        let info = try #require(report.findings.with(.ghcrNoPushWorkflow, repo: "unison-policy").first)
        #expect(info.severity == .info && info.file == "unison-policy/.github/workflows/publish.yml" && info.line == 5)

        // No workflow at all.
        try sandbox.git(policy, "rm", "-q", "-r", ".github")
        try sandbox.git(policy, "commit", "-q", "-m", "drop ci")
        report = try WorkspaceCheck.run(directory: meta, spec: spec, runner: sandbox.runner)
        let error = try #require(report.findings.with(.ghcrNoPushWorkflow, repo: "unison-policy").first)
        #expect(error.severity == .error && error.file == nil)
    }
}
