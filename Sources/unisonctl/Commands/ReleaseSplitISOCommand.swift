import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonImage

extension ReleaseCommand {
    struct SplitISO: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split-iso",
            abstract: "Cut a release ISO into <iso>.partNN files under GitHub's 2 GiB asset limit, with <iso>.REASSEMBLE.txt.",
            discussion: """
                An ISO no larger than --part-size is left whole. The parts and the text are written under \
                temporary names and renamed into place; the ISO is then removed unless --keep.
                """)

        @Argument(help: ArgumentHelp("The ISO, e.g. dist/unisonos-baremetal-v0.5.0.iso.", valueName: "iso"))
        var iso: String
        @Option(name: .customLong("part-size"), help: ArgumentHelp("Largest part in bytes (default: 2 GiB less 1 MiB).", valueName: "bytes"))
        var partSize: Int64 = ISOReleaseParts.defaultPartSize
        @Flag(help: "Keep the whole ISO beside its parts.")
        var keep = false
        @OptionGroup var output: JSONOption

        func run() async throws {
            let result = try ISOReleaseParts.split(URL(fileURLWithPath: iso), partSize: partSize, keepISO: keep)
            if output.json { try Output.json(result); return }
            for part in result.parts { print(part.name) }
            if let text = result.reassemble { print(text) }
        }
    }
}
