import ArgumentParser
import FoundationEssentials
import Glibc
import UnisonBuildInfo
import UnisonCore

@main
struct Unisonctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unisonctl",
        abstract: "The UnisonOS distribution toolchain: one spec (unison.yaml) to releases, images, installs and diagnostics.",
        discussion: """
            The spec is found from --spec, then $UNISON_SPEC, then the nearest unison.yaml upward.
            Exit status: 0 ok, 1 a check failed, 2 bad input or usage.
            Colour only on a terminal and never when NO_COLOR is set.
            Shell completions: unisonctl --generate-completion-script bash|zsh|fish
            """,
        version: BuildInfo.version,
        subcommands: [
            SpecCommand.self, ReposCommand.self,
            ReleaseCommand.self, CompatCommand.self,
            OCICommand.self, ModelsCommand.self,
            ImageCommand.self, QACommand.self,
            InstallCommand.self, UninstallCommand.self,
            StartCommand.self, StopCommand.self, RestartCommand.self, StatusCommand.self,
            HealthCommand.self, LogsCommand.self, FollowCommand.self, DoctorCommand.self, RecoverCommand.self,
            StageUpdateCommand.self, ShowStagedUpdateCommand.self, FinalizeStagedUpdateCommand.self, ClearStagedUpdateCommand.self,
            FirstbootCommand.self, AnswersCommand.self, DiagCommand.self, TelemetryCommand.self, PilotCommand.self,
            WorkspaceCommand.self, ReadmeCommand.self, CICommand.self, PlatformCommand.self,
        ]
    )

    /// Runs the command and maps failures onto the project's exit codes: 2 for usage and
    /// input errors (ArgumentParser's own usage errors included), 1 for failed checks.
    static func main() async {
        ToolVersion.stamp(BuildInfo.version)
        // SIGINT/SIGTERM remove partial blobs and temporary directories before exiting.
        TempPaths.installSignalHandlers()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            TempPaths.yieldToSignalCleanup()
        } catch {
            exit(with: error)
        }
    }

    static func exit(with error: Error) -> Never {
        TempPaths.yieldToSignalCleanup()
        if let coded = error as? ExitCoded {
            ErrorOutput.print(error)
            Glibc.exit(coded.exitStatus.rawValue)
        }
        if let exitCode = error as? ExitCode {
            Glibc.exit(exitCode.rawValue)
        }
        let code = exitCode(for: error)
        if code == .success {
            // --help, --version and completion scripts.
            Swift.print(fullMessage(for: error))
            Glibc.exit(0)
        }
        let message = fullMessage(for: error)
        if code == .validationFailure || error is ValidationError || isUsageError(error) {
            FileIO.standardError.write("\(message)\n")
            Glibc.exit(ExitStatus.badInput.rawValue)
        }
        FileIO.standardError.write("unisonctl: \(message)\n")
        Glibc.exit(ExitStatus.checkFailed.rawValue)
    }

    /// ArgumentParser reports unknown options and missing arguments with EX_USAGE (64).
    private static func isUsageError(_ error: Error) -> Bool {
        exitCode(for: error).rawValue == 64
    }
}
