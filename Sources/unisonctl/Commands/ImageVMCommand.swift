import ArgumentParser
import Foundation
import UnisonCore
import UnisonDisk

struct ImageInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a disk image's format, virtual size, partitions and filesystems.",
        discussion: "Reads raw, qcow2 and VMDK (sparse and stream-optimized) images; nothing is modified."
    )

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: ArgumentHelp("Disk image (.raw, .qcow2, .vmdk).", valueName: "file"))
    var file: String

    func run() async throws {
        let report = try DiskInspector.inspect(URL(fileURLWithPath: file).standardizedFileURL)
        if jsonOption.json {
            try Output.json(report)
            return
        }
        Output.line("\(report.path): \(report.format.rawValue), virtual size \(report.virtualSize) bytes (\(ProgressReporter.formatBytes(report.virtualSize))), file \(ProgressReporter.formatBytes(report.fileSize))")
        if let vmdk = report.vmdk {
            Output.line("vmdk: version \(vmdk.version), createType \(vmdk.createType), CID \(vmdk.cid)")
        }
        switch report.partitionTable {
        case "gpt":
            Output.line("partition table: GPT, disk GUID \(report.diskGUID?.description ?? "?")\(report.gptValid == true ? "" : " (CHECKSUM OR BACKUP MISMATCH)")")
        default:
            Output.line("partition table: \(report.partitionTable)")
        }
        for p in report.partitions {
            var line = "  \(p.index)  \(p.typeName)  \"\(p.name)\"  \(p.guid)  LBA \(p.firstLBA)-\(p.lastLBA)  \(ProgressReporter.formatBytes(p.size))"
            if let fs = p.filesystem { line += "  \(fs.type) label=\"\(fs.label)\" uuid=\(fs.uuid)" }
            Output.line(line)
        }
    }
}
