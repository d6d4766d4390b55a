import CZlib
import FoundationEssentials
import Glibc

/// Random access to the virtual disk inside a container file (for `image inspect` and tests).
package protocol DiskReader: AnyObject {
    var format: DiskFormat { get }
    var virtualSize: Int64 { get }
    /// Reads `count` bytes of the virtual disk at `offset` (unallocated areas read as zeros).
    func read(at offset: Int64, count: Int) throws -> [UInt8]
}

/// Opens a disk image, recognizing the container by its magic: `QFI\xfb` (qcow2), `KDMV`
/// (VMDK sparse extent), anything else is raw.
package enum DiskImage {
    package static func open(_ url: URL) throws -> any DiskReader {
        let file = try HostFile(url)
        let magic = try file.read(at: 0, count: 4)
        if magic == Qcow2Header.magic { return try Qcow2Reader(file) }
        if magic == VMDKHeader.magic { return try VMDKReader(file) }
        return RawReader(file)
    }

    /// Sniffs the container format without opening it fully.
    package static func format(of url: URL) throws -> DiskFormat {
        let magic = try HostFile(url).read(at: 0, count: 4)
        if magic == Qcow2Header.magic { return .qcow2 }
        if magic == VMDKHeader.magic { return .vmdk }
        return .raw
    }
}

/// A host file read with `pread`; reads past the end return zeros.
final class HostFile {
    let url: URL
    let fd: Int32
    let size: Int64

    init(_ url: URL) throws {
        self.url = url
        fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DiskError.io(path: url.path, operation: "open", errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DiskError.io(path: url.path, operation: "stat", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG || (st.st_mode & S_IFMT) == S_IFBLK else {
            close(fd)
            throw DiskError.unsupported(path: url.path, detail: "not a regular file")
        }
        size = Int64(st.st_size)
    }

    deinit { close(fd) }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DiskError.io(path: url.path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return out
    }
}

final class RawReader: DiskReader {
    let file: HostFile
    init(_ file: HostFile) { self.file = file }
    var format: DiskFormat { .raw }
    var virtualSize: Int64 { file.size }
    func read(at offset: Int64, count: Int) throws -> [UInt8] { try file.read(at: offset, count: count) }
}

/// Reads clusters of a cluster-mapped image: splits a request at cluster boundaries.
protocol ClusterMapped: DiskReader {
    var clusterSize: Int64 { get }
    /// The whole cluster `index` (nil for an unallocated or zero cluster).
    func cluster(_ index: Int64) throws -> [UInt8]?
}

extension ClusterMapped {
    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var position = offset
        var filled = 0
        while filled < count, position < virtualSize {
            let index = position / clusterSize
            let within = Int(position % clusterSize)
            let n = min(count - filled, Int(clusterSize) - within)
            if let data = try cluster(index) {
                out.replaceSubrange(filled..<(filled + n), with: data[within..<(within + n)])
            }
            filled += n
            position += Int64(n)
        }
        return out
    }
}

final class Qcow2Reader: ClusterMapped {
    let file: HostFile
    let header: Qcow2Header
    let l1: [UInt64]
    private var l2Cache: [Int64: [UInt64]] = [:]

    init(_ file: HostFile) throws {
        self.file = file
        header = try Qcow2Header.decode(try file.read(at: 0, count: 112), path: file.url.path)
        guard header.cryptMethod == 0 else { throw DiskError.unsupported(path: file.url.path, detail: "encrypted qcow2 images are not supported") }
        guard header.backingFileOffset == 0 else {
            throw DiskError.unsupported(path: file.url.path, detail: "qcow2 images with a backing file are not supported")
        }
        let known: UInt64 = 0b11  // dirty, corrupt: readable
        guard header.incompatibleFeatures & ~known == 0 else {
            throw DiskError.unsupported(
                path: file.url.path, detail: "qcow2 incompatible features 0x\(String(header.incompatibleFeatures, radix: 16)) are not supported")
        }
        let l1Bytes = Int(header.l1Size) * 8
        guard header.l1TableOffset % UInt64(header.clusterSize) == 0, Int64(header.l1TableOffset) + Int64(l1Bytes) <= file.size else {
            throw DiskError.corrupt(path: file.url.path, offset: 40, detail: "the L1 table lies outside the file")
        }
        let v = BinaryView(try file.read(at: Int64(header.l1TableOffset), count: l1Bytes))
        l1 = (0..<Int(header.l1Size)).map { v.be64($0 * 8) }
    }

    var format: DiskFormat { .qcow2 }
    var virtualSize: Int64 { Int64(header.size) }
    var clusterSize: Int64 { header.clusterSize }

    func cluster(_ index: Int64) throws -> [UInt8]? {
        let entries = clusterSize / 8
        let l1Index = Int(index / entries)
        guard l1Index < l1.count else { return nil }
        let l2Offset = Int64(l1[l1Index] & 0x00FF_FFFF_FFFF_FE00)
        if l2Offset == 0 { return nil }
        let table: [UInt64]
        if let cached = l2Cache[l2Offset] {
            table = cached
        } else {
            guard l2Offset + clusterSize <= file.size else {
                throw DiskError.corrupt(path: file.url.path, offset: l2Offset, detail: "an L2 table lies outside the file")
            }
            let v = BinaryView(try file.read(at: l2Offset, count: Int(clusterSize)))
            table = (0..<Int(entries)).map { v.be64($0 * 8) }
            l2Cache[l2Offset] = table
        }
        let entry = table[Int(index % entries)]
        if entry & (1 << 62) != 0 {
            let x = 62 - (Int(header.clusterBits) - 8)
            let hostOffset = Int64(entry & ((1 << UInt64(x)) - 1))
            let extraSectors = Int64((entry >> UInt64(x)) & ((1 << UInt64(62 - x)) - 1))
            let length = Int((extraSectors + 1) * 512 - (hostOffset & 511))
            let compressed = try file.read(at: hostOffset, count: length)
            return try Inflate.raw(compressed, expected: Int(clusterSize), path: file.url.path, offset: hostOffset)
        }
        if entry & 1 != 0 { return nil }  // reads as zeros
        let host = Int64(entry & 0x00FF_FFFF_FFFF_FE00)
        if host == 0 { return nil }
        guard host + clusterSize <= file.size else {
            throw DiskError.corrupt(path: file.url.path, offset: host, detail: "a data cluster lies outside the file")
        }
        return try file.read(at: host, count: Int(clusterSize))
    }
}

final class VMDKReader: ClusterMapped {
    let file: HostFile
    let header: VMDKHeader
    let directory: [UInt32]
    private var tableCache: [UInt32: [UInt32]] = [:]

    init(_ file: HostFile) throws {
        self.file = file
        var h = try VMDKHeader.decode(try file.read(at: 0, count: 512), path: file.url.path)
        if h.gdOffset == VMDKHeader.gdAtEnd {
            // Stream-optimized: the footer, 1024 bytes before the end, holds the real offsets.
            guard file.size >= 1536 else { throw DiskError.corrupt(path: file.url.path, offset: 0, detail: "VMDK stream is too short for a footer") }
            let marker = BinaryView(try file.read(at: file.size - 1536, count: 512))
            guard marker.le32(12) == VMDKMarker.footer.rawValue else {
                throw DiskError.corrupt(path: file.url.path, offset: file.size - 1536, detail: "no VMDK footer marker")
            }
            h = try VMDKHeader.decode(try file.read(at: file.size - 1024, count: 512), path: file.url.path, offset: file.size - 1024)
        }
        guard h.version <= 3 else { throw DiskError.unsupported(path: file.url.path, detail: "VMDK version \(h.version) is not supported") }
        guard h.grainSize > 0, h.grainSize <= 0x20_0000, h.gtesPerGT > 0, h.gtesPerGT <= 512 else {
            throw DiskError.corrupt(path: file.url.path, offset: 20, detail: "VMDK grain size or table size is invalid")
        }
        header = h
        let coverage = UInt64(h.gtesPerGT) * h.grainSize
        let count = Int((h.capacity + coverage - 1) / coverage)
        let v = BinaryView(try file.read(at: Int64(h.gdOffset) * 512, count: count * 4))
        directory = (0..<count).map { v.le32($0 * 4) }
    }

    var format: DiskFormat { .vmdk }
    var virtualSize: Int64 { Int64(header.capacity) * 512 }
    var clusterSize: Int64 { Int64(header.grainSize) * 512 }

    /// The embedded descriptor text.
    var descriptor: String {
        let bytes = (try? file.read(at: Int64(header.descriptorOffset) * 512, count: Int(header.descriptorSize) * 512)) ?? []
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    func cluster(_ index: Int64) throws -> [UInt8]? {
        let per = Int64(header.gtesPerGT)
        let gt = Int(index / per)
        guard gt < directory.count, directory[gt] != 0 else { return nil }
        let table: [UInt32]
        if let cached = tableCache[directory[gt]] {
            table = cached
        } else {
            let v = BinaryView(try file.read(at: Int64(directory[gt]) * 512, count: Int(per) * 4))
            table = (0..<Int(per)).map { v.le32($0 * 4) }
            tableCache[directory[gt]] = table
        }
        let sector = table[Int(index % per)]
        if sector == 0 || sector == 1 { return nil }  // unallocated or zeroed grain
        let offset = Int64(sector) * 512
        if header.isCompressed {
            var start = offset
            var length = Int(clusterSize) * 2
            if header.hasMarkers {
                let m = BinaryView(try file.read(at: offset, count: 12))
                guard m.le64(0) == UInt64(index) * header.grainSize else {
                    throw DiskError.corrupt(
                        path: file.url.path, offset: offset, detail: "grain marker LBA \(m.le64(0)) does not match grain \(index)")
                }
                length = Int(m.le32(8))
                start = offset + 12
            }
            guard length > 0, start + Int64(length) <= file.size else {
                throw DiskError.corrupt(path: file.url.path, offset: offset, detail: "a compressed grain lies outside the file")
            }
            return try Inflate.zlib(try file.read(at: start, count: length), expected: Int(clusterSize), path: file.url.path, offset: start)
        }
        return try file.read(at: offset, count: Int(clusterSize))
    }
}

/// zlib inflation for the readers: zlib-wrapped (VMDK grains) and raw deflate (qcow2).
enum Inflate {
    static func zlib(_ input: [UInt8], expected: Int, path: String, offset: Int64) throws -> [UInt8] {
        try run(input, windowBits: 15, expected: expected, path: path, offset: offset)
    }

    static func raw(_ input: [UInt8], expected: Int, path: String, offset: Int64) throws -> [UInt8] {
        try run(input, windowBits: -15, expected: expected, path: path, offset: offset)
    }

    private static func run(_ input: [UInt8], windowBits: Int32, expected: Int, path: String, offset: Int64) throws -> [UInt8] {
        var stream = z_stream()
        var out = [UInt8](repeating: 0, count: expected)
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DiskError.corrupt(path: path, offset: offset, detail: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        // A cluster is complete once `expected` bytes came out, even if the stream continues.
        guard status == Z_STREAM_END || (status == Z_BUF_ERROR && stream.avail_out == 0) || (status == Z_OK && stream.avail_out == 0) else {
            throw DiskError.corrupt(path: path, offset: offset, detail: "compressed data does not inflate (zlib status \(status))")
        }
        return out
    }
}
