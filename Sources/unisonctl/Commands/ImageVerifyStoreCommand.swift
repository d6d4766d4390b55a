import ArgumentParser
import FoundationEssentials
import UnisonCore
import UnisonImage

struct ImageVerifyStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-store",
        abstract: "Check a preloaded service-image store (every blob against its digest and size) before it is loaded.",
        discussion: """
            Reads the OCI layout an image build preloads at /var/lib/unison/images: every image index.json lists, \
            its manifest, config and layers checked against their digests and sizes, and the docker-archive views \
            naming only those blobs. Nothing is loaded or changed. First boot's image loader runs it before \
            `docker load`: a problem leaves the stack unstarted. A problem is printed as \
            `<service>: image <reference>: blob <digest>: <reason>`, one image a line.
            Exit status: 0 intact, 1 a problem was found.
            """)

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("The store (an OCI image layout written by the preload).", valueName: "dir"))
    var store: String = ServiceImagePreload.destination

    func run() async throws {
        let check = ServiceImagePreload.verifyStore(at: URL(fileURLWithPath: store).standardizedFileURL)
        if jsonOption.json {
            try Output.json(check)
        } else if check.ok {
            Output.line("\(check.store): \(check.images) images, \(check.blobs) blobs, \(check.bytes) bytes intact")
        } else {
            for problem in check.problems { Output.line(Terminal.escapingControls(problem.description)) }
        }
        if !check.ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}
