import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonCore
import UnisonDisk
import UnisonOCI

/// One file of the compressed payload on the ISO.
package struct ISOPayloadPart: Sendable, Codable, Equatable {
    package var name: String
    package var size: Int64
    package var sha256: String
}

/// The disk image the installer writes, as it sits on the ISO: its data extents compressed
/// (`<name>.data.gz[.NNN]`) and the map of data and zero ranges (`<name>.extents`,
/// `ISOPayloadExtents`), so gigabytes of zeros are neither read nor deflated.
package struct ISOPayloadInfo: Sendable, Codable, Equatable {
    /// The raw disk's name (`<name>.raw`); the parts are `<name>.raw.data.gz[.NNN]`.
    package var name: String
    /// Where it came from: "built" (the VM pipeline, in-process) or the --payload path.
    package var source: String
    /// The format it was given in (raw, qcow2, vmdk).
    package var sourceFormat: DiskFormat
    /// The whole disk's size and SHA-256 (what the installer verifies on the target).
    package var size: Int64
    package var sha256: String
    package var compression: String
    /// `extents/1`: the parts hold the data ranges of `map`, in order.
    package var layout: String
    /// The extent map's file name (`<name>.extents`).
    package var map: String
    /// Bytes in data ranges (what is compressed; the rest of the disk is zeros).
    package var dataBytes: Int64
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
        partName: @escaping @Sendable (_ base: String, _ index: Int) -> String = { "\($0).\(NumberText.decimal($1, width: 3))" }
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

    /// The unit the payload's extents are found in: a block holding any non-zero byte is data.
    static let blockSize: Int64 = 1 << 20

    /// Packs `raw` into `directory` in the extents layout (`ISOPayloadExtents`): the data
    /// blocks' bytes as `<name>.data.gz` or `<name>.data.gz.NNN` parts of at most `splitAbove`
    /// bytes, and the map `<name>.extents`. Holes of the sparse file are never read; the whole
    /// disk (holes as zeros, from memory) is hashed in the same pass, unless `sha256` already
    /// holds its digest.
    static func pack(
        raw: URL, sha256 known: String? = nil, name: String, source: String, sourceFormat: DiskFormat, into directory: URL,
        splitAbove: Int64, level: Int32, threads: Int, progress: ProgressReporter?
    ) throws -> ISOPayloadInfo {
        let fd = open(raw.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DiskError.io(path: raw.path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DiskError.io(path: raw.path, operation: "stat", errno: errno) }
        let size = Int64(st.st_size)
        let mapped = try SparseFile.dataRanges(raw)
        var packer = PayloadPacker(
            size: size, hashing: known == nil, name: name, into: directory, splitAbove: splitAbove, level: level, threads: threads,
            progress: progress)
        var buffer = [UInt8](repeating: 0, count: Int(blockSize))
        var next = 0
        var offset: Int64 = 0
        while offset < size {
            let length = min(blockSize, size - offset)
            while next < mapped.count, mapped[next].upperBound <= offset { next += 1 }
            guard next < mapped.count, mapped[next].lowerBound < offset + length else {
                offset += length
                try packer.zeros(upTo: offset)
                continue
            }
            try buffer.withUnsafeMutableBytes { whole in
                var done = 0
                while done < Int(length) {
                    let n = pread(fd, whole.baseAddress! + done, Int(length) - done, off_t(offset) + off_t(done))
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else {
                        throw DiskError.io(path: raw.path, operation: "read at offset \(offset + Int64(done)) of", errno: n < 0 ? errno : EIO)
                    }
                    done += n
                }
            }
            try buffer.withUnsafeBytes { try packer.block(UnsafeRawBufferPointer(rebasing: $0[0..<Int(length)])) }
            offset += length
        }
        return try packer.finish(sha256: known, source: source, sourceFormat: sourceFormat)
    }

    /// Packs a disk laid out in this run straight from its layout, in the same format and to the
    /// same bytes as packing the raw disk written from it, without writing that disk (4 GiB,
    /// mostly holes) and reading it back: only the layout's non-zero blocks are read.
    static func pack(
        layout: DiskLayout, name: String, source: String, into directory: URL,
        splitAbove: Int64, level: Int32, threads: Int, progress: ProgressReporter?
    ) throws -> ISOPayloadInfo {
        var packer = PayloadPacker(
            size: layout.size, hashing: true, name: name, into: directory, splitAbove: splitAbove, level: level, threads: threads,
            progress: progress)
        var chunker = LayoutChunker(layout, chunkSize: Int(blockSize))
        defer { chunker.close() }
        while try chunker.nextInPlace({ index, bytes in
            let offset = index * blockSize
            try packer.zeros(upTo: offset)
            try packer.block(UnsafeRawBufferPointer(rebasing: bytes[0..<Int(min(blockSize, layout.size - offset))]))
        }) {}
        try packer.zeros(upTo: layout.size)
        return try packer.finish(sha256: nil, source: source, sourceFormat: .raw)
    }
}

/// One pass of packing: blocks arrive in disk order, each either read (`block`, data when it
/// holds a non-zero byte) or known to be zero (`zeros`); the data goes to the gzip parts, every
/// block to the disk's hash and the extent map.
private struct PayloadPacker {
    let size: Int64
    let name: String
    let directory: URL
    let progress: ProgressReporter?
    let split: SplitFileSink
    let gzip: ParallelGzipSink
    var hasher: DigestHasher?
    var extents: [ISOPayloadExtents.Extent] = []
    /// Where the next block starts.
    var offset: Int64 = 0
    static let zeroBlock = [UInt8](repeating: 0, count: Int(ISOPayload.blockSize))

    init(
        size: Int64, hashing: Bool, name: String, into directory: URL, splitAbove: Int64, level: Int32, threads: Int,
        progress: ProgressReporter?
    ) {
        self.size = size
        self.name = name
        self.directory = directory
        self.progress = progress
        split = SplitFileSink(directory: directory, baseName: name + ".data.gz", limit: splitAbove)
        gzip = ParallelGzipSink(split, level: level, threads: threads)
        hasher = hashing ? DigestHasher(.sha256) : nil
    }

    /// Blocks from `offset` up to `end` (a block boundary or the disk's size) are zeros.
    mutating func zeros(upTo end: Int64) throws {
        while offset < end {
            let length = min(ISOPayload.blockSize, end - offset)
            Self.zeroBlock.withUnsafeBytes { hasher?.update(UnsafeRawBufferPointer(rebasing: $0[0..<Int(length)])) }
            record(isData: false, length: length)
        }
    }

    /// The block at `offset`, read.
    mutating func block(_ bytes: UnsafeRawBufferPointer) throws {
        hasher?.update(bytes)
        let isData = Self.zeroBlock.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) != 0 }
        if isData { try gzip.write(bytes) }
        record(isData: isData, length: Int64(bytes.count))
    }

    private mutating func record(isData: Bool, length: Int64) {
        if let last = extents.last, last.isData == isData {
            extents[extents.count - 1].length += length
        } else {
            extents.append(.init(isData: isData, offset: offset, length: length))
        }
        offset += length
        progress?.set(offset)
    }

    mutating func finish(sha256 known: String?, source: String, sourceFormat: DiskFormat) throws -> ISOPayloadInfo {
        try gzip.finish()
        let map = ISOPayloadExtents(size: size, extents: extents)
        let mapName = name + ".extents"
        try Data(map.text.utf8).write(to: directory.appendingPathComponent(mapName))
        var parts: [ISOPayloadPart] = []
        for partName in split.partNames {
            let (partHex, partSize) = try SHA256Hex.file(directory.appendingPathComponent(partName))
            parts.append(ISOPayloadPart(name: partName, size: partSize, sha256: partHex))
        }
        return ISOPayloadInfo(
            name: name, source: source, sourceFormat: sourceFormat, size: size, sha256: known ?? hasher!.finalize().hex,
            compression: "gzip", layout: ISOPayloadExtents.layout, map: mapName, dataBytes: map.dataBytes,
            compressedBytes: parts.reduce(0) { $0 + $1.size }, parts: parts)
    }
}

/// The payload's map: which byte ranges of the disk are data (their bytes follow each other in
/// the compressed stream, in order) and which are zero (the installer writes zeros there).
/// Text, one range per line, covering the disk from 0 to its size without a gap:
///
///     unisonos-extents/1 <disk bytes>
///     data <offset> <length>
///     zero <offset> <length>
///     ...
///
/// Offsets and lengths are decimal bytes; ranges start on 1 MiB boundaries (the last may end
/// at the disk's size). Read by the installer's /init (busybox `dd` with `seek_bytes` and
/// `count_bytes`) and by the tests' own reader.
package struct ISOPayloadExtents: Sendable, Equatable {
    package static let layout = "extents/1"
    package static let magic = "unisonos-extents/1"

    package struct Extent: Sendable, Equatable {
        package var isData: Bool
        package var offset: Int64
        package var length: Int64
    }

    package var size: Int64
    package var extents: [Extent]

    package var dataBytes: Int64 { extents.filter(\.isData).reduce(0) { $0 + $1.length } }

    package var text: String {
        "\(Self.magic) \(size)\n" + extents.map { "\($0.isData ? "data" : "zero") \($0.offset) \($0.length)\n" }.joined()
    }
}
