import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonSpec
import UnisonWorkspace

struct CICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Generate the GitHub Actions workflows the platform's repos use.",
        subcommands: [Workflow.self]
    )

    struct Workflow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workflow",
            abstract: "Print (or write) a service repo's publish workflow, the platform's reusable build, or its release workflow.",
            discussion: """
                --service NAME: the service repo's .github/workflows/publish.yml, calling the platform's reusable \
                build (pin it with --platform-ref SHA); the service repo needs no spec. --reusable: unison-platform's \
                .github/workflows/unisonctl-build.yml (workflow_call): unisonctl and unison.yaml from a platform \
                release checked against its SHA256SUMS, tags by the spec's channels, linux/amd64 and linux/arm64 \
                with SBOM and provenance, a provenance attestation and a vulnerability scan. --platform: \
                unison-platform's .github/workflows/release.yml: unisonctl built from --toolchain-repo, images from \
                make image-wsl image-vm image-iso, the ISO split, the release manifest and checksums, a GitHub release \
                shaped by the channel (alpha: draft pre-release), per-target and rolling tags for a stable release. \
                All pass actionlint and zizmor.
                """)

        @OptionGroup var specOptions: SpecOptions
        @Option(help: "Service whose repo gets the publish workflow.")
        var service: String?
        @Flag(help: "The platform repo's reusable build workflow.")
        var reusable = false
        @Flag(help: "The platform repo's release workflow.")
        var platform = false
        @Option(
            name: .customLong("platform-ref"),
            help: ArgumentHelp("Ref of the platform repo the service workflow calls (a commit SHA satisfies zizmor).", valueName: "ref"))
        var platformRef: String = "main"
        @Option(
            name: .customLong("platform-ref-comment"),
            help: ArgumentHelp("What --platform-ref is, written beside it (e.g. v0.5.0-alpha.1).", valueName: "text"))
        var platformRefComment: String?
        @Option(
            name: .customLong("platform-version"),
            help: ArgumentHelp(
                "Platform release the reusable build takes unisonctl and unison.yaml from by default (default: v<platform.version>).",
                valueName: "tag"))
        var platformVersion: String?
        @Option(
            name: .customLong("toolchain-repo"), help: ArgumentHelp("Repository the release workflow builds unisonctl from.", valueName: "owner/name")
        )
        var toolchainRepo: String = "project-unisonos/unisonctl"
        @Option(name: .customLong("toolchain-ref"), help: ArgumentHelp("Its ref (a tag or commit).", valueName: "ref"))
        var toolchainRef: String = "main"
        @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file (atomically) instead of stdout.", valueName: "file"))
        var outputFile: String?

        func validate() throws {
            guard [service != nil, reusable, platform].filter({ $0 }).count == 1 else {
                throw ValidationError("give one of --service NAME, --reusable or --platform")
            }
        }

        func run() async throws {
            let spec = try specOptions.load()
            let text: String
            do {
                if let service {
                    text = try CIWorkflow.servicePublish(spec: spec, service: service, platformRef: platformRef, refComment: platformRefComment)
                } else if reusable {
                    text = try CIWorkflow.reusableBuild(spec: spec, platformVersion: platformVersion ?? spec.platform.version.tagString(forceV: true))
                } else {
                    text = try CIWorkflow.platformRelease(spec: spec, toolchainRepo: toolchainRepo, toolchainRef: toolchainRef)
                }
            } catch let error as CIWorkflow.WorkflowError {
                throw ValidationError(error.description)
            }
            if service != nil, !(platformRef.count == 40 && platformRef.allSatisfy(\.isHexDigit)) {
                FileIO.standardError.write(
                    "warning: the reusable workflow is called at '\(platformRef)', not a commit SHA: zizmor's unpinned-uses rule flags it (pass --platform-ref SHA)\n"
                )
            }
            if let outputFile {
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: outputFile))
            } else {
                print(text, terminator: "")
            }
        }
    }
}
