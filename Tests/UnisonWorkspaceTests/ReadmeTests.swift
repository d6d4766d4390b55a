import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonWorkspace

@Suite(.tags(.unit)) struct MarkdownHeadingTests {
    struct Case: Sendable, CustomStringConvertible {
        var text: String
        var headings: [String]
        var description: String { headings.joined(separator: ",") }
    }

    static let cases: [Case] = [
        Case(text: "# Title\n\n## Run\ntext\n### Tests ###\n", headings: ["1:Title@1", "2:Run@3", "3:Tests@5"]),
        Case(text: "Role\n====\n\nUsage\n-----\n", headings: ["1:Role@1", "2:Usage@4"]),
        Case(text: "```sh\n# not a heading\n```\n## Docs\n", headings: ["2:Docs@4"]),
        Case(text: "~~~~\n## inside\n~~~\n## still inside\n~~~~\n## Out\n", headings: ["2:Out@6"]),
        Case(text: "    # indented code\n   ## three spaces\n#NoSpace\n", headings: ["2:three spaces@2"]),
        Case(text: "---\ntitle: x\n---\n# Front matter skipped\n", headings: ["1:Front matter skipped@4"]),
        Case(text: "<h2 align=\"center\">Quick start</h2>\n\n---\n", headings: ["2:Quick start@1"]),
        Case(text: "text\n\n---\n\n## After a rule\n", headings: ["2:After a rule@5"]),
    ]

    @Test(arguments: cases)
    func headingsAreFound(_ c: Case) {
        let doc = MarkdownDocument(c.text)
        #expect(doc.headings.map { "\($0.level):\($0.text)@\($0.line)" } == c.headings)
    }

    @Test(arguments: [
        ("## 1. Quick Start", "quick start"),
        ("## 🚀 `Run` it!", "run it"),
        ("### [Documentation](https://x.example/docs)", "documentation"),
        ("## **Role & status**", "role status"),
        ("## 2) Tests:", "tests"),
    ])
    func headingTextIsNormalized(_ heading: String, _ normalized: String) {
        #expect(MarkdownDocument(heading).headings.first?.normalized == normalized)
    }

    @Test func firstParagraphSkipsBadgesAndComments() throws {
        let doc = MarkdownDocument("# x\n\n<!-- c -->\n[![ci](https://b/badge.svg)](https://b) ![x](y.png)\n\nThe shared\nlibrary.\n\nMore.\n")
        let p = try #require(doc.firstParagraph())
        #expect(p.text == "The shared library.")
        #expect(p.line == 6)
    }
}

@Suite(.tags(.interop)) struct ReadmeAuditTests {
    static func repoDir(_ sandbox: Sandbox, _ name: String, readme: String?, files: [String: String] = [:]) throws -> URL {
        let dir = sandbox.root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let readme { try sandbox.write(dir, "README.md", readme) }
        for (path, content) in files { try sandbox.write(dir, path, content, executable: path.hasSuffix(".sh")) }
        return dir
    }

    @Test func sectionsMatchTitlesAndAliasesOnly() throws {
        let spec = try Specs.small()
        let repo = try #require(spec.repo(named: "unison-auth"))
        let sandbox = try Sandbox()
        let readme = """
            # unison-auth

            Issues tokens for the platform.

            Status
            ------

            A service of UnisonOS.

            ## Running in production

            ```sh
            make run
            # Test
            ```

            ## Links
            """
        let dir = try Self.repoDir(sandbox, "unison-auth", readme: readme, files: ["Makefile": "run:\n\ttrue\ntest:\n\ttrue\n"])
        let findings = ReadmeAudit.audit(spec: spec, repo: repo, directory: dir, displayPrefix: "unison-auth")
        let missing = findings.with(.readmeMissingSection)
        // "Running in production" is not "Running"; "# Test" inside a code block is not a heading.
        #expect(Set(missing.map(\.message)).count == 2)
        #expect(missing.contains { $0.message.contains("\"Run\" section") })
        #expect(missing.contains { $0.message.contains("\"Test\" section") })
        #expect(missing.allSatisfy { $0.file == "unison-auth/README.md" && $0.severity == .error && $0.repo == "unison-auth" })
        // The Status section names the role; `make test` is not shown anywhere.
        #expect(findings.with(.readmeRoleMismatch).isEmpty)
        let undocumented = findings.with(.readmeEntrypointUndocumented)
        #expect(undocumented.count == 1 && undocumented.first?.message.contains("`make test`") == true)
        #expect(findings.with(.readmeEntrypointMissing).isEmpty)
    }

    @Test func roleMustBeNamedInTheTitleRoleSectionOrFirstParagraph() throws {
        let spec = try Specs.small()
        let auth = try #require(spec.repo(named: "unison-auth"))
        let sandbox = try Sandbox()
        let readme = """
            # Tokens

            Welcome: a library of token helpers.

            ## Role

            Library code shared by other repos.

            ## Run

            ## Test

            ## Docs

            The service is named here, outside the role section: too late.
            """
        let dir = try Self.repoDir(sandbox, "unison-auth", readme: readme)
        let findings = ReadmeAudit.audit(spec: spec, repo: auth, directory: dir, displayPrefix: "unison-auth")
        let mismatch = try #require(findings.with(.readmeRoleMismatch).first)
        #expect(mismatch.line == 5)  // the Role heading
        #expect(mismatch.severity == .warning)
        #expect(mismatch.message.contains("'service'"))
        #expect(mismatch.message.contains("'library'"))

        // The description (case and spacing aside) counts as naming the role.
        try sandbox.write(
            dir, "README.md",
            readme.replacingOccurrences(
                of: "Library code shared by other repos.",
                with: "It ISSUES and   checks tokens"))
        #expect(ReadmeAudit.audit(spec: spec, repo: auth, directory: dir, displayPrefix: "unison-auth").with(.readmeRoleMismatch).isEmpty)
        // So does the title: `# Unison Devstack` names the devstack role.
        let devstack = try #require(spec.repo(named: "unison-devstack"))
        let devDir = try Self.repoDir(sandbox, "unison-devstack", readme: "# Unison Devstack\n\nDocker Compose setup for core services.\n")
        #expect(ReadmeAudit.audit(spec: spec, repo: devstack, directory: devDir, displayPrefix: "unison-devstack").with(.readmeRoleMismatch).isEmpty)
    }

    @Test func entryPointsMustExist() throws {
        let spec = try Specs.small()
        let platform = try #require(spec.repo(named: "unison-platform"))  // make image-wsl image-vm / make test
        let devstack = try #require(spec.repo(named: "unison-devstack"))  // make up / ./scripts/smoke.sh
        let sandbox = try Sandbox()
        let platformReadme =
            "# p\n\nRelease bundle.\n\n## Role\nplatform\n## Run\n\n```\nmake image-wsl\nmake image-vm\n```\n## Test\nmake test\n## Docs\n"
        let platformDir = try Self.repoDir(
            sandbox, "unison-platform", readme: platformReadme,
            files: [
                "Makefile": "IMAGE := x\nVERSION ?= 1\nimage-%: base\n\t@true\nbase:\n\t@true\n",
                "mk/extra.mk": "test:\n\t@true\n",
            ])
        var findings = ReadmeAudit.audit(spec: spec, repo: platform, directory: platformDir, displayPrefix: "unison-platform")
        // `image-wsl` and `image-vm` match the pattern rule; `test` is in a file that is not included.
        var missing = findings.with(.readmeEntrypointMissing)
        #expect(missing.count == 1)
        #expect(missing.first?.file == "unison-platform/README.md" && missing.first?.line == 14)
        #expect(missing.first?.message.contains("'test'") == true)
        #expect(findings.with(.readmeEntrypointUndocumented).isEmpty)

        try sandbox.write(platformDir, "Makefile", "include mk/extra.mk\nimage-%: base\n\t@true\nbase:\n\t@true\n")
        findings = ReadmeAudit.audit(spec: spec, repo: platform, directory: platformDir, displayPrefix: "unison-platform")
        #expect(findings.with(.readmeEntrypointMissing).isEmpty, "\(findings.described)")

        // A script that is not executable, and no Makefile at all.
        let devstackReadme = "# d\n\nThe devstack.\n\n## Role\ndevstack\n## Run\nmake up\n## Test\n./scripts/smoke.sh\n## Docs\n"
        let devstackDir = try Self.repoDir(sandbox, "unison-devstack", readme: devstackReadme)
        try sandbox.write(devstackDir, "scripts/smoke.sh", "#!/bin/sh\n", executable: false)
        findings = ReadmeAudit.audit(spec: spec, repo: devstack, directory: devstackDir, displayPrefix: "unison-devstack")
        missing = findings.with(.readmeEntrypointMissing)
        #expect(missing.count == 2, "\(missing.described)")
        #expect(missing.contains { $0.file == "unison-devstack/scripts/smoke.sh" && $0.message.contains("not executable") })
        #expect(missing.contains { $0.message.contains("needs a Makefile") && $0.line == 8 })

        try FileManager.default.removeItem(at: devstackDir.appendingPathComponent("scripts/smoke.sh"))
        findings = ReadmeAudit.audit(spec: spec, repo: devstack, directory: devstackDir, displayPrefix: "unison-devstack")
        #expect(findings.with(.readmeEntrypointMissing).contains { $0.message.contains("does not exist") && $0.line == 10 })
    }

    @Test func missingReadmeIsAnError() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let dir = try Self.repoDir(sandbox, "unison-auth", readme: nil)
        let findings = ReadmeAudit.audit(
            spec: spec, repo: try #require(spec.repo(named: "unison-auth")), directory: dir, displayPrefix: "unison-auth")
        #expect(findings.map(\.rule) == [.readmeMissing])
        #expect(findings.first?.file == "unison-auth" && findings.first?.severity == .error)
    }

    @Test(arguments: [
        ("make image-wsl image-vm", [ReadmeAudit.Invocation.make(targets: ["image-wsl", "image-vm"], directory: nil, file: nil)]),
        ("FOO=1 make -C sub -j4 build V=1", [.make(targets: ["build"], directory: "sub", file: nil)]),
        (
            "./scripts/smoke.sh --fast && make test",
            [.script(path: "./scripts/smoke.sh", direct: true), .make(targets: ["test"], directory: nil, file: nil)]
        ),
        ("bash ci/run.sh", [.script(path: "ci/run.sh", direct: false)]),
        ("pip install -e .", [.other]),
        (
            "docker compose -f docker-compose.yml -f docker-compose.ports.yml up -d --build",
            [.compose(files: ["docker-compose.yml", "docker-compose.ports.yml"])]
        ),
        ("docker-compose --file=dev.yml up", [.compose(files: ["dev.yml"])]),
        ("PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 OTEL_SDK_DISABLED=true python -m pytest", [.other]),
        ("PYTHONPATH=src python src/server.py", [.script(path: "src/server.py", direct: false)]),
    ])
    func entryPointCommandsAreRead(_ command: String, _ expected: [ReadmeAudit.Invocation]) {
        #expect(ReadmeAudit.invocations(command) == expected)
    }

    /// Entry points as the real repos run them: python scripts, pytest behind environment
    /// assignments, docker compose with its files.
    @Test func realEntryPointsAreCheckedAndFoundDocumented() throws {
        let sandbox = try Sandbox()
        var spec = try Specs.small()
        let index = try #require(spec.repos.firstIndex { $0.name == "unison-devstack" })
        spec.repos[index].entrypoints = [
            "run": "docker compose -f docker-compose.yml -f docker-compose.ports.yml up -d --build",
            "test": "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 OTEL_SDK_DISABLED=true python -m pytest",
            "smoke": "python scripts/e2e_smoke.py",
        ]
        let readme = """
            # unison-devstack

            ## Role in UnisonOS

            The devstack: the Compose stack for local development.

            ## Run locally

            ```sh
            docker compose -f docker-compose.yml -f docker-compose.ports.yml up -d --build
            ```

            ## Testing

            ```sh
            $ python3 -m pytest
            ```

            ## Docs

            See unison-docs.
            """
        let dir = try Self.repoDir(sandbox, "unison-devstack", readme: readme, files: ["docker-compose.yml": "services: {}\n"])
        let findings = ReadmeAudit.audit(spec: spec, repo: spec.repos[index], directory: dir, displayPrefix: "unison-devstack")
        #expect(findings.with(.readmeMissingSection).isEmpty, "\(findings.described)")
        // pytest is shown (as python3, without the assignments); the smoke script is not.
        let undocumented = findings.with(.readmeEntrypointUndocumented)
        #expect(undocumented.map { $0.message.contains("e2e_smoke.py") } == [true], "\(undocumented.described)")
        let missing = findings.with(.readmeEntrypointMissing)
        #expect(missing.count == 2, "\(missing.described)")
        let compose = try #require(missing.first { $0.message.contains("Compose file docker-compose.ports.yml") })
        #expect(compose.file == "unison-devstack/README.md" && compose.line == 10)
        #expect(missing.contains { $0.message.contains("scripts/e2e_smoke.py, which does not exist") })
    }

    @Test func makefileTargetsFollowRuleSyntax() {
        let m = MakefileTargets(
            text: """
                VAR := a:b
                OTHER = x:y
                X ::= z
                .PHONY: all test
                all test: deps \\
                  more
                \tcd x && make inner: || true
                build/%.o: %.c
                # comment: not a target
                define BLOCK
                fake:
                endef
                serve::
                $(OUT)/file: x
                """)
        #expect(Set(m.targets.keys) == ["all", "test", "serve"])
        #expect(m.targets["test"] == 5)
        #expect(m.defines("build/x.o") && !m.defines("fake") && !m.defines("VAR"))
    }
}

@Suite(.tags(.interop)) struct ReadmeFixTests {
    @Test func fixAppendsOnlyWhatIsMissingAndIsIdempotent() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let dir = sandbox.root.appendingPathComponent("unison-auth")
        let original = "# unison-auth\n\nIssues tokens.\n\n## Usage\n\nmake run\n\n## Tests\nno trailing newline"
        try sandbox.write(dir, "README.md", original)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: dir.appendingPathComponent("README.md").path)

        let first = try ReadmeTargets.fix([dir.path], repoName: nil, spec: spec)
        #expect(first.map(\.added) == [["role", "docs"]])
        #expect(first.first?.created == false)
        let fixed = try Data(contentsOf: dir.appendingPathComponent("README.md"))
        let text = String(decoding: fixed, as: UTF8.self)
        #expect(text.hasPrefix(original + "\n"))
        #expect(text.contains("## Role\n\nRole: `service` — Issues and checks tokens.\n"))
        #expect(text.contains("Publishes `ghcr.io/project-unisonos/unison-auth`."))
        #expect(text.contains("https://github.com/project-unisonos/unison-docs"))
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("README.md").path)
        #expect(attributes[.posixPermissions] as? Int == 0o640)

        let second = try ReadmeTargets.fix([dir.appendingPathComponent("README.md").path], repoName: nil, spec: spec)
        #expect(second.map(\.added) == [[]])
        #expect(try Data(contentsOf: dir.appendingPathComponent("README.md")) == fixed)
        // The fixed README passes the section and role checks; nothing is left beside it.
        let report = try ReadmeTargets.check([dir.path], repoName: nil, spec: spec)
        #expect(report.findings.with(.readmeMissingSection).isEmpty && report.findings.with(.readmeRoleMismatch).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["README.md"])
    }

    @Test func fixCreatesAMissingReadmeAndKeepsCRLF() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let dir = sandbox.root.appendingPathComponent("checkout")
        try sandbox.write(dir, "Makefile", "up:\n\tdocker compose up -d\n")
        try sandbox.write(dir, "scripts/smoke.sh", "#!/bin/sh\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.appendingPathComponent("scripts/smoke.sh").path)
        let created = try ReadmeTargets.fix([dir.path], repoName: "unison-devstack", spec: spec)
        #expect(created.first?.created == true && created.first?.added == ["role", "run", "test", "docs"])
        let text = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(text.hasPrefix("# unison-devstack\n\nDocker Compose stack"))
        #expect(text.contains("```sh\nmake up\n```") && text.contains("```sh\n./scripts/smoke.sh\n```"))
        // The docs link points at the page unison-docs really has.
        #expect(text.contains("https://github.com/project-unisonos/unison-docs/blob/main/dev/unison-repo-roles.md"))

        let crlf = sandbox.root.appendingPathComponent("unison-docs")
        try sandbox.write(crlf, "README.md", "# Docs\r\n\r\nDocumentation.\r\n\r\n## Run\r\n")
        _ = try ReadmeTargets.fix([crlf.path], repoName: nil, spec: spec)
        let bytes = try String(contentsOf: crlf.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(bytes.hasPrefix("# Docs\r\n\r\nDocumentation.\r\n\r\n## Run\r\n\r\n## Role\r\n"))
        #expect(!bytes.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    /// A command the repo does not have is never written as the way to run it.
    @Test func fixWritesOnlyCommandsTheRepoHas() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        let dir = sandbox.root.appendingPathComponent("unison-devstack")
        try sandbox.write(dir, "README.md", "# unison-devstack\n\n## Role\n\nThe devstack.\n")
        try sandbox.write(dir, "Makefile", "down:\n\ttrue\n")
        _ = try ReadmeTargets.fix([dir.path], repoName: nil, spec: spec)
        let text = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!text.contains("```sh\nmake up") && !text.contains("```sh\n./scripts/smoke.sh"))
        #expect(
            text.contains("To be written: how to run unison-devstack. The platform spec declares `make up`, which this repository cannot run: ")
                && text.contains("make target 'up'"))
        #expect(text.contains("declares `./scripts/smoke.sh`, which this repository cannot run: ") && text.contains("does not exist"))
    }

    @Test func unplacedDirectoriesAreFindingsAndTheRestIsChecked() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        try sandbox.write(sandbox.root.appendingPathComponent("mystery"), "README.md", "# x\n")
        let auth = sandbox.root.appendingPathComponent("unison-auth")
        try sandbox.write(auth, "README.md", "# unison-auth\n")
        // A clone under another directory name is placed by its origin remote.
        let renamed = sandbox.root.appendingPathComponent("policy-checkout")
        try sandbox.write(renamed, "README.md", "# policy\n")
        try sandbox.write(
            renamed, ".git/config", "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:project-unisonos/unison-policy.git\n")
        let report = try ReadmeTargets.check(
            [sandbox.root.appendingPathComponent("mystery").path, auth.path, renamed.path], repoName: nil, spec: spec)
        let unplaced = report.findings.with(.readmeUnknownRepo)
        #expect(unplaced.count == 1 && unplaced[0].severity == .error && unplaced[0].repo == "mystery")
        #expect(unplaced[0].file?.hasSuffix("mystery/README.md") == true)
        #expect(report.findings.with(.readmeMissingSection).contains { $0.repo == "unison-auth" })
        #expect(report.findings.with(.readmeMissingSection).contains { $0.repo == "unison-policy" })

        let fixed = try ReadmeTargets.fix([sandbox.root.appendingPathComponent("mystery").path], repoName: nil, spec: spec)
        #expect(fixed.first?.skipped?.contains("'mystery' is not a repo of the spec") == true)
        #expect(try String(contentsOf: sandbox.root.appendingPathComponent("mystery/README.md"), encoding: .utf8) == "# x\n")
    }

    @Test func unknownRepoFlagAndMissingPathAreBadInput() throws {
        let spec = try Specs.small()
        let sandbox = try Sandbox()
        try sandbox.write(sandbox.root.appendingPathComponent("mystery"), "README.md", "# x\n")
        #expect(throws: WorkspaceError.self) {
            try ReadmeTargets.check([sandbox.root.appendingPathComponent("mystery").path], repoName: "no-such-repo", spec: spec)
        }
        #expect(throws: WorkspaceError.self) {
            try ReadmeTargets.fix([sandbox.root.appendingPathComponent("absent/README.md").path], repoName: "unison-auth", spec: spec)
        }
    }
}
