import Foundation
import UnisonArchive
import UnisonCore
import UnisonDisk

/// One file of the compressed payload on the ISO.
package struct ISOPayloadPart: Sendable, Codable, Equatable {
    package var name: String
    package var size: Int64
    package var sha256: String
}

/// The disk image the installer writes, as it sits on the ISO.
package struct ISOPayloadInfo: Sendable, Codable, Equatable {
    /// The raw disk's name (`<name>.raw`); the parts are `<name>.raw.gz[.NNN]`.
    package var name: String
    /// Where it came from: "built" (the VM pipeline, in-process) or the --payload path.
    package var source: String
    /// The format it was given in (raw, qcow2, vmdk).
    package var sourceFormat: DiskFormat
    package var size: Int64
    package var sha256: String
    package var compression: String
    package var compressedBytes: Int64
    package var parts: [ISOPayloadPart]
}

/// Writes a byte stream as numbered files of at most `limit` bytes: `<base>.000`, `.001`, ...
/// (or the names `partName` gives). A stream that fits in one file is renamed to `<base>`
/// unless `keepSinglePart`.
final class SplitFileSink: ByteSink {
    let directory: URL
    let baseName: String
    let limit: Int64
    let partName: @Sendable (_ base: String, _ index: Int) -> String
    let keepSinglePart: Bool
    private(set) var partNames: [String] = []
    private var current: FileSink?
    private var currentCount: Int64 = 0

    init(
        directory: URL, baseName: String, limit: Int64, keepSinglePart: Bool = false,
        partName: @escaping @Sendable (_ base: String, _ index: Int) -> String = { String(format: "%@.%03d", $0, $1) }
    ) {
        self.directory = directory
        self.baseName = baseName
        self.limit = limit
        self.keepSinglePart = keepSinglePart
        self.partName = partName
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            if current == nil || currentCount == limit { try openNext() }
            let n = Int(min(Int64(bytes.count - offset), limit - currentCount))
            try current!.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            currentCount += Int64(n)
            offset += n
        }
    }

    private func openNext() throws {
        try current?.finish()
        let name = partName(baseName, partNames.count)
        current = try FileSink(directory.appendingPathComponent(name))
        partNames.append(name)
        currentCount = 0
    }

    func finish() throws {
        if current == nil { try openNext() }
        try current?.finish()
        if partNames.count == 1, !keepSinglePart {
            let single = directory.appendingPathComponent(baseName)
            if rename(directory.appendingPathComponent(partNames[0]).path, single.path) != 0 {
                throw DiskError.io(path: single.path, operation: "rename", errno: errno)
            }
            partNames = [baseName]
        }
    }
}

enum ISOPayload {
    /// A raw copy of `image` (qcow2 and VMDK converted by `qemu-img convert`), or the image
    /// itself when it already is raw. Refuses what is not a readable disk image.
    static func raw(from image: URL, workDir: URL, runner: any ProcessRunner) throws -> (URL, DiskFormat) {
        guard FileManager.default.isReadableFile(atPath: image.path) else {
            throw ISOError.badPayload(path: image.path, detail: "does not exist or cannot be read")
        }
        let report: DiskReport
        do {
            report = try DiskInspector.inspect(image)
        } catch {
            throw ISOError.badPayload(path: image.path, detail: "not a disk image we can read (\(error))")
        }
        guard report.virtualSize > 0, report.virtualSize % 512 == 0 else {
            throw ISOError.badPayload(path: image.path, detail: "virtual size \(report.virtualSize) bytes is not a positive multiple of 512")
        }
        if report.format == .raw { return (image, .raw) }
        let out = workDir.appendingPathComponent("payload.raw")
        try runner.check(["qemu-img", "convert", "-f", report.format.rawValue, "-O", "raw", image.path, out.path])
        return (out, report.format)
    }

    /// Compresses `raw` into `directory` as `<name>.gz` or `<name>.gz.NNN` parts of at most
    /// `splitAbove` bytes; hashes the raw disk and every part.
    static func pack(
        raw: URL, name: String, source: String, sourceFormat: DiskFormat, into directory: URL,
        splitAbove: Int64, level: Int32, threads: Int, progress: ProgressReporter?
    ) throws -> ISOPayloadInfo {
        let (hex, size) = try SHA256Hex.file(raw)
        let split = SplitFileSink(directory: directory, baseName: name + ".gz", limit: splitAbove)
        let gzip = ParallelGzipSink(split, level: level, threads: threads)
        let input = try FileSource(raw)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while true {
            let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try gzip.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            done += Int64(n)
            progress?.set(done)
        }
        try gzip.finish()
        var parts: [ISOPayloadPart] = []
        for partName in split.partNames {
            let (partHex, partSize) = try SHA256Hex.file(directory.appendingPathComponent(partName))
            parts.append(ISOPayloadPart(name: partName, size: partSize, sha256: partHex))
        }
        return ISOPayloadInfo(
            name: name, source: source, sourceFormat: sourceFormat, size: size, sha256: hex, compression: "gzip",
            compressedBytes: parts.reduce(0) { $0 + $1.size }, parts: parts)
    }
}
