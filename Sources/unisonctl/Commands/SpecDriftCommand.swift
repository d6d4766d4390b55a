import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonSpec
import UnisonWorkspace

extension SpecCommand {
    struct Drift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drift",
            abstract: "Compare the spec with a checked-out workspace of the real repositories.",
            discussion: """
                Reads each repo of the spec found in WORKSPACE (the workspace repo itself, its \
                submodules, and repos cloned beside them): Dockerfile EXPOSE and CMD --port, \
                unison-platform's compose/compose.yaml (images, container and host ports, health \
                checks, dependencies, profiles, file secrets), publishing workflows' image names, the \
                branch origin/HEAD names, README titles and entry points, and repositories on disk the \
                spec does not list. unison-devstack's compose files are compared too: where they differ \
                from the spec and unison-platform's file agrees with the spec, the repositories \
                disagree with each other (kind repos.disagree). Each disagreement is printed with the \
                spec's location and the repository's.
                Exit status: 0 no drift, 1 drift found, 2 bad input.
                """)

        @Argument(help: ArgumentHelp("The workspace directory (unison-workspace checkout).", valueName: "workspace"))
        var workspace: String
        @OptionGroup var specOptions: SpecOptions
        @OptionGroup var output: JSONOption

        func run() async throws {
            let root = URL(fileURLWithPath: workspace).standardizedFileURL
            var isDir = false
            guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir else {
                throw ValidationError("\(workspace) is not a directory")
            }
            let url = try SpecLocator.locate(explicit: specOptions.spec)
            let (spec, map) = try SpecLoader.loadWithSourceMap(file: url)
            let report = SpecDrift(spec: spec, sourceMap: map, workspace: root).run()
            if output.json {
                try Output.json(report)
            } else {
                for d in report.drift {
                    Output.line("\(d.found): \(d.kind.rawValue): \(d.message)")
                    if let s = d.spec { Output.line("  spec: \(s)") }
                    if let o = d.other { Output.line("  also: \(o)") }
                }
                let disagree = report.drift.filter { $0.kind == .reposDisagree }.count
                Output.line(
                    "spec drift: \(report.drift.count - disagree) disagreement(s) with the spec, \(disagree) between repositories; "
                        + "\(report.checked.count) repos checked, \(report.notCheckedOut.count) not checked out"
                        + (report.notCheckedOut.isEmpty ? "" : " (\(report.notCheckedOut.joined(separator: ", ")))"))
            }
            if !report.isClean { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }
}
