import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonCore

/// ext4 written directly from a `FileTree` in one pass: no staging directory, no mke2fs, no
/// debugfs, and nothing taken from the build host but the file contents. Layout (4 KiB blocks,
/// kernel Documentation/filesystems/ext4/):
///
///     block 0           boot area, superblock at byte 1024
///     1 ..              group descriptors (64 bytes each, `64bit`)
///     then (flex_bg)    every group's block bitmap, every group's inode bitmap, every group's
///                       inode table (256-byte inodes), all packed at the start of the disk
///     then              the journal (inode 8): a JBD2 v2 superblock, then zeros (holes)
///     then              each inode's blocks in inode-number order: directory blocks, file data
///                       (all-zero blocks left as holes), extent leaves, xattr blocks
///     group g = 1, 3^k, 5^k, 7^k   backup superblock and descriptors at the group's first block
///
/// Features: has_journal, ext_attr, dir_index; filetype, extents, 64bit, flex_bg; sparse_super,
/// large_file, dir_nlink, extra_isize, metadata_csum (CRC-32C over the superblock, descriptors,
/// bitmaps, inodes, extent leaves, directory blocks, htree nodes and xattr blocks). A directory
/// that fits one block is linear; a larger one is hashed (htree, half-MD4 seeded with the UUID,
/// up to two index levels), as the kernel would have indexed it.
///
/// Reproducible: inode numbers follow `FileTree.walk()` (names in byte order), never a host's
/// readdir order; every time is the entry's mtime; the UUID, label and hash seed come from the
/// options. The same tree and options give the same bytes on any machine.
package struct NativeExt4Builder: Ext4Builder {
    package init() {}

    package func build(_ tree: FileTree, image: URL, size: Int64, options: Ext4Options) throws -> Ext4Image {
        guard size % 4096 == 0 else { throw DiskError.misaligned(what: "ext4 filesystem size", value: size, alignment: 4096) }
        let writer = try Ext4Writer(tree: tree, size: size, options: options)
        try writer.write(to: image)
        return Ext4Image(url: image, size: size, uuid: options.uuid, dataRanges: try SparseFile.dataRanges(image))
    }
}

/// On-disk constants (kernel Documentation/filesystems/ext4/).
enum Ext4 {
    static let blockSize = 4096
    static let blocksPerGroup = 32768
    static let inodeSize = 256
    static let extraIsize = 32
    static let descSize = 64
    static let firstIno: UInt32 = 11
    static let rootIno: UInt32 = 2
    static let journalIno: UInt32 = 8
    static let inodeRatio = 16384

    // s_feature_compat / incompat / ro_compat
    static let compatHasJournal: UInt32 = 0x4, compatExtAttr: UInt32 = 0x8, compatDirIndex: UInt32 = 0x20
    static let incompatFiletype: UInt32 = 0x2, incompatExtents: UInt32 = 0x40, incompat64bit: UInt32 = 0x80
    static let incompatFlexBG: UInt32 = 0x200
    static let roSparseSuper: UInt32 = 0x1, roLargeFile: UInt32 = 0x2, roDirNlink: UInt32 = 0x20
    static let roExtraIsize: UInt32 = 0x40, roMetadataCsum: UInt32 = 0x400

    static let extentsFlag: UInt32 = 0x80000
    static let indexFlag: UInt32 = 0x1000
    static let extentMagic: UInt16 = 0xF30A
    static let maxExtentLength = 32768
    static let xattrMagic: UInt32 = 0xEA02_0000

    // Directory entry file types.
    static let ftRegular: UInt8 = 1, ftDirectory: UInt8 = 2, ftChar: UInt8 = 3, ftBlock: UInt8 = 4
    static let ftFifo: UInt8 = 5, ftSymlink: UInt8 = 7

    /// Groups holding a superblock backup under sparse_super: 0, 1 and powers of 3, 5 and 7.
    static func hasSuperBackup(_ group: Int) -> Bool {
        if group <= 1 { return true }
        for base in [3, 5, 7] {
            var p = base
            while p < group { p *= base }
            if p == group { return true }
        }
        return false
    }

    /// Seconds as ext4 stores them: the low 32 bits, and in the `_extra` word the epoch bits
    /// that extend the signed 32-bit range (nanoseconds 0).
    static func time(_ seconds: Int64) -> (UInt32, UInt32) {
        let lo = UInt32(truncatingIfNeeded: seconds)
        let epochBits = UInt32(truncatingIfNeeded: (seconds - Int64(Int32(truncatingIfNeeded: seconds))) >> 32) & 3
        return (lo, epochBits)
    }
}

/// Blocks and inodes of one filesystem, decided before anything is written.
struct Ext4Geometry {
    let blocks: Int64
    let groups: Int
    let inodesPerGroup: Int
    let gdtBlocks: Int
    var inodeTableBlocks: Int { inodesPerGroup * Ext4.inodeSize / Ext4.blockSize }
    var inodes: Int { groups * inodesPerGroup }

    init(size: Int64, inodesNeeded: Int) throws {
        var blocks = size / Int64(Ext4.blockSize)
        guard blocks >= 2048 else {
            throw DiskError.doesNotFit(what: "an ext4 filesystem", needed: 2048 * Int64(Ext4.blockSize), available: size)
        }
        var groups = Int((blocks + Int64(Ext4.blocksPerGroup) - 1) / Int64(Ext4.blocksPerGroup))
        // A last group too small for its own backup and a few blocks is left out (as mke2fs does).
        let last = blocks - Int64(groups - 1) * Int64(Ext4.blocksPerGroup)
        if groups > 1 && last < 256 {
            blocks -= last
            groups -= 1
        }
        let wanted = max(Int(blocks * Int64(Ext4.blockSize) / Int64(Ext4.inodeRatio)), inodesNeeded + inodesNeeded / 8 + 16)
        var perGroup = (wanted + groups - 1) / groups
        perGroup = (perGroup + 15) / 16 * 16  // whole inode-table blocks
        guard perGroup <= Ext4.blocksPerGroup else {
            throw DiskError.doesNotFit(
                what: "\(inodesNeeded) ext4 inodes", needed: Int64(inodesNeeded) * Int64(Ext4.inodeRatio),
                available: blocks * Int64(Ext4.blockSize))
        }
        self.blocks = blocks
        self.groups = groups
        self.inodesPerGroup = perGroup
        self.gdtBlocks = (groups * Ext4.descSize + Ext4.blockSize - 1) / Ext4.blockSize
    }

    /// Blocks of backup superblocks and descriptors outside group 0, in ascending order.
    var backupRanges: [Range<Int64>] {
        (1..<groups).filter(Ext4.hasSuperBackup).map {
            let start = Int64($0) * Int64(Ext4.blocksPerGroup)
            return start..<(start + 1 + Int64(gdtBlocks))
        }
    }

    var journalBlocks: Int {
        switch blocks {
        case ..<32768: return 1024
        case ..<262_144: return 4096
        case ..<524_288: return 8192
        case ..<4_194_304: return 16384
        default: return 32768
        }
    }
}

/// Hands out blocks in ascending order, stepping over backup superblocks, and records every
/// block it gives in a bitmap.
struct BlockAllocator {
    let total: Int64
    private let reserved: [Range<Int64>]
    private(set) var next: Int64
    private(set) var used: [UInt64]

    init(total: Int64, reserved: [Range<Int64>], firstFree: Int64) {
        self.total = total
        self.reserved = reserved
        self.next = firstFree
        used = [UInt64](repeating: 0, count: Int((total + 63) / 64))
        mark(0..<firstFree)
        for r in reserved { mark(r) }
    }

    mutating func mark(_ range: Range<Int64>) {
        for b in range { used[Int(b >> 6)] |= 1 << UInt64(b & 63) }
    }

    func isUsed(_ block: Int64) -> Bool { used[Int(block >> 6)] & (1 << UInt64(block & 63)) != 0 }

    /// `count` consecutive blocks.
    mutating func contiguous(_ count: Int, what: @autoclosure () -> String) throws -> Int64 {
        while true {
            let end = next + Int64(count)
            if let r = reserved.first(where: { $0.lowerBound < end && $0.upperBound > next }) {
                next = r.upperBound
                continue
            }
            guard end <= total else {
                throw DiskError.doesNotFit(
                    what: what(), needed: (end - total) * Int64(Ext4.blockSize) + Int64(count) * Int64(Ext4.blockSize),
                    available: Int64(count) * Int64(Ext4.blockSize))
            }
            mark(next..<end)
            defer { next = end }
            return next
        }
    }

    /// One block (the next free one).
    mutating func one(what: @autoclosure () -> String) throws -> Int64 { try contiguous(1, what: what()) }
}

/// One extent: `length` blocks of the file from `logical` at `physical`.
struct Ext4Extent: Equatable {
    var logical: UInt32
    var length: Int
    var physical: Int64
}

/// The writer: plans inodes from the tree, then writes the image.
final class Ext4Writer {
    struct DirEntry {
        var name: [UInt8]
        var ino: UInt32
        var type: UInt8
    }

    struct Node {
        var entry: FileTree.Entry
        var links = 1
        var parent: UInt32 = 0
        var children: [DirEntry] = []
    }

    let options: Ext4Options
    let size: Int64
    /// Nodes by inode number (index 0 and reserved numbers without a node are nil).
    private var nodes: [Node?]
    private let geometry: Ext4Geometry
    private var allocator: BlockAllocator
    private let csumSeed: UInt32
    /// The inode tables' used part: inode n at (n - 1) * 256.
    private var inodeTable: [UInt8]
    private var fd: Int32 = -1
    private var url = URL(fileURLWithPath: "/")
    private let content = ContentReader()
    private var dirCount = [Int](repeating: 0, count: 1)

    init(tree: FileTree, size: Int64, options: Ext4Options) throws {
        self.options = options
        self.size = size
        let walk = tree.walk()
        var inoOf: [String: UInt32] = ["": Ext4.rootIno]
        var next = Ext4.firstIno + 1
        var nodes: [Node?] = []
        func put(_ ino: UInt32, _ node: Node) {
            while nodes.count <= Int(ino) { nodes.append(nil) }
            nodes[Int(ino)] = node
        }
        // lost+found is inode 11 (e2fsck looks for it); the tree's own when it has one.
        let lostFound = "lost+found"
        if let existing = tree[lostFound] {
            guard existing.isDirectory else {
                throw DiskError.unsupportedEntry(path: "/" + lostFound, filesystem: "ext4", detail: "ext4 needs /lost+found to be a directory")
            }
            put(Ext4.firstIno, Node(entry: existing))
        } else {
            put(Ext4.firstIno, Node(entry: .init(path: lostFound, kind: .directory, mode: 0o700, mtime: tree[""]?.mtime ?? options.epoch)))
        }
        inoOf[lostFound] = Ext4.firstIno
        for entry in walk {
            if entry.path.isEmpty {
                put(Ext4.rootIno, Node(entry: entry))
                continue
            }
            if entry.path == lostFound { continue }
            if case .hardlink = entry.kind { continue }
            inoOf[entry.path] = next
            put(next, Node(entry: entry))
            next += 1
        }
        // Directory entries, in walk order (names in byte order within each directory).
        var children: [UInt32: [DirEntry]] = [:]
        var lostFoundListed = false
        for entry in walk where !entry.path.isEmpty {
            let name = Array(entry.path.split(separator: "/").last!.utf8)
            guard name.count <= 255 else {
                throw DiskError.unsupportedEntry(
                    path: "/" + entry.path, filesystem: "ext4", detail: "a name is \(name.count) bytes long (at most 255)")
            }
            guard !name.contains(0) else {
                throw DiskError.unsupportedEntry(path: "/" + entry.path, filesystem: "ext4", detail: "a name holds a NUL byte")
            }
            let parent = inoOf[entry.path.lastIndex(of: "/").map { String(entry.path[..<$0]) } ?? ""]!
            let ino: UInt32
            let type: UInt8
            switch entry.kind {
            case let .hardlink(target):
                guard let t = inoOf[target] else {
                    throw DiskError.unsupportedEntry(path: "/" + entry.path, filesystem: "ext4", detail: "hard link target '\(target)' is missing")
                }
                ino = t
                type = Ext4.ftRegular
                nodes[Int(t)]!.links += 1
            case .regular: ino = inoOf[entry.path]!; type = Ext4.ftRegular
            case .directory: ino = inoOf[entry.path]!; type = Ext4.ftDirectory
            case .symlink: ino = inoOf[entry.path]!; type = Ext4.ftSymlink
            case .characterDevice: ino = inoOf[entry.path]!; type = Ext4.ftChar
            case .blockDevice: ino = inoOf[entry.path]!; type = Ext4.ftBlock
            case .fifo: ino = inoOf[entry.path]!; type = Ext4.ftFifo
            }
            if entry.path == lostFound { lostFoundListed = true }
            children[parent, default: []].append(DirEntry(name: name, ino: ino, type: type))
            if type == Ext4.ftDirectory { nodes[Int(ino)]!.parent = parent }
        }
        if !lostFoundListed {
            var root = children[Ext4.rootIno] ?? []
            let name = Array(lostFound.utf8)
            let at = root.firstIndex { !$0.name.lexicographicallyPrecedes(name) } ?? root.count
            root.insert(DirEntry(name: name, ino: Ext4.firstIno, type: Ext4.ftDirectory), at: at)
            children[Ext4.rootIno] = root
            nodes[Int(Ext4.firstIno)]!.parent = Ext4.rootIno
        }
        nodes[Int(Ext4.rootIno)]!.parent = Ext4.rootIno
        for (ino, list) in children {
            nodes[Int(ino)]!.children = list
            let subdirs = list.filter { $0.type == Ext4.ftDirectory }.count
            // dir_nlink: a directory with too many subdirectories counts 1.
            nodes[Int(ino)]!.links = 2 + subdirs >= 65000 ? 1 : 2 + subdirs
        }
        for ino in [Ext4.rootIno, Ext4.firstIno] where children[ino] == nil { nodes[Int(ino)]!.links = 2 }
        for (i, node) in nodes.enumerated() where node?.entry.isDirectory == true && children[UInt32(i)] == nil {
            nodes[i]!.links = 2
        }
        self.nodes = nodes
        let maxIno = nodes.count - 1
        geometry = try Ext4Geometry(size: size, inodesNeeded: maxIno)
        let metadataStart = Int64(1 + geometry.gdtBlocks)
        allocator = BlockAllocator(total: geometry.blocks, reserved: geometry.backupRanges, firstFree: metadataStart)
        csumSeed = CRC32C.update(~0, options.uuid.bytes)
        inodeTable = [UInt8](repeating: 0, count: maxIno * Ext4.inodeSize)
    }

    // MARK: - Writing

    func write(to url: URL) throws {
        self.url = url
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
        fd = open(url.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw DiskError.io(path: url.path, operation: "create", errno: errno) }
        defer { close(fd) }
        if ftruncate(fd, off_t(size)) != 0 { throw DiskError.io(path: url.path, operation: "set the length of", errno: errno) }

        let g = geometry
        var blockBitmaps: [Int64] = [], inodeBitmaps: [Int64] = [], inodeTables: [Int64] = []
        for _ in 0..<g.groups { blockBitmaps.append(try allocator.one(what: "the ext4 block bitmaps")) }
        for _ in 0..<g.groups { inodeBitmaps.append(try allocator.one(what: "the ext4 inode bitmaps")) }
        for _ in 0..<g.groups { inodeTables.append(try allocator.contiguous(g.inodeTableBlocks, what: "the ext4 inode tables")) }

        let journal = try writeJournal()
        dirCount = [Int](repeating: 0, count: g.groups)
        for ino in 1..<nodes.count {
            guard let node = nodes[ino] else { continue }
            try writeInode(UInt32(ino), node)
        }
        try content.close()

        // Inode tables (the used part), bitmaps, descriptors, superblocks.
        let ipg = g.inodesPerGroup
        let maxIno = nodes.count - 1
        var descriptors = [UInt8](repeating: 0, count: g.gdtBlocks * Ext4.blockSize)
        var freeBlocksTotal: Int64 = 0
        var freeInodesTotal: Int64 = 0
        for group in 0..<g.groups {
            let firstIno = group * ipg + 1
            let usedInodes = max(0, min(ipg, maxIno - firstIno + 1))
            if usedInodes > 0 {
                let from = (firstIno - 1) * Ext4.inodeSize
                try pwriteAll(inodeTable[from..<(from + usedInodes * Ext4.inodeSize)], at: inodeTables[group] * Int64(Ext4.blockSize))
            }
            var inodeBitmap = [UInt8](repeating: 0, count: Ext4.blockSize)
            for i in 0..<usedInodes { inodeBitmap[i >> 3] |= 1 << UInt8(i & 7) }
            for i in ipg..<(Ext4.blockSize * 8) { inodeBitmap[i >> 3] |= 1 << UInt8(i & 7) }  // padding
            try pwriteAll(inodeBitmap[...], at: inodeBitmaps[group] * Int64(Ext4.blockSize))

            var blockBitmap = [UInt8](repeating: 0, count: Ext4.blockSize)
            let start = Int64(group) * Int64(Ext4.blocksPerGroup)
            var free = 0
            for i in 0..<Ext4.blocksPerGroup {
                let b = start + Int64(i)
                if b >= g.blocks || allocator.isUsed(b) {
                    blockBitmap[i >> 3] |= 1 << UInt8(i & 7)
                } else {
                    free += 1
                }
            }
            try pwriteAll(blockBitmap[...], at: blockBitmaps[group] * Int64(Ext4.blockSize))
            freeBlocksTotal += Int64(free)
            freeInodesTotal += Int64(ipg - usedInodes)

            var d = BinaryRecord(size: Ext4.descSize)
            func split64(_ v: Int64, lo: Int, hi: Int) {
                d.le32(UInt32(truncatingIfNeeded: v), at: lo)
                d.le32(UInt32(truncatingIfNeeded: v >> 32), at: hi)
            }
            func split32(_ v: Int, lo: Int, hi: Int) {
                d.le16(UInt16(truncatingIfNeeded: v), at: lo)
                d.le16(UInt16(truncatingIfNeeded: v >> 16), at: hi)
            }
            split64(blockBitmaps[group], lo: 0x0, hi: 0x20)
            split64(inodeBitmaps[group], lo: 0x4, hi: 0x24)
            split64(inodeTables[group], lo: 0x8, hi: 0x28)
            split32(free, lo: 0xC, hi: 0x2C)
            split32(ipg - usedInodes, lo: 0xE, hi: 0x2E)
            split32(dirCount[group], lo: 0x10, hi: 0x30)
            d.le16(0x4, at: 0x12)  // EXT4_BG_INODE_ZEROED: the table reads as zeros
            let bbCsum = CRC32C.update(csumSeed, blockBitmap)
            let ibCsum = CRC32C.update(csumSeed, Array(inodeBitmap[0..<(ipg / 8)]))
            split32(Int(bbCsum), lo: 0x18, hi: 0x38)
            split32(Int(ibCsum), lo: 0x1A, hi: 0x3A)
            split32(ipg - usedInodes, lo: 0x1C, hi: 0x32)
            var c = CRC32C.update(csumSeed, le32: UInt32(group))
            c = CRC32C.update(c, d.bytes)  // bg_checksum (0x1E) is still zero here
            d.le16(UInt16(truncatingIfNeeded: c), at: 0x1E)
            for (i, b) in d.bytes.enumerated() { descriptors[group * Ext4.descSize + i] = b }
        }

        let superblock = makeSuperblock(freeBlocks: freeBlocksTotal, freeInodes: freeInodesTotal, journal: journal)
        for group in 0..<g.groups where Ext4.hasSuperBackup(group) {
            var sb = superblock
            sb.le16(UInt16(group), at: 0x5A)
            let csum = CRC32C.update(~0, Array(sb.bytes[0..<0x3FC]))
            sb.le32(csum, at: 0x3FC)
            let base = Int64(group) * Int64(Ext4.blocksPerGroup) * Int64(Ext4.blockSize)
            try pwriteAll(sb.bytes[...], at: group == 0 ? 1024 : base)
            try pwriteAll(descriptors[...], at: base + Int64(Ext4.blockSize))
        }
        if fsync(fd) != 0 { throw DiskError.io(path: url.path, operation: "sync", errno: errno) }
    }

    private func makeSuperblock(freeBlocks: Int64, freeInodes: Int64, journal: [UInt8]) -> BinaryRecord {
        let g = geometry
        var s = BinaryRecord(size: 1024)
        let blocks = g.blocks
        let reserved = blocks / 20
        s.le32(UInt32(g.inodes), at: 0x0)
        s.le32(UInt32(truncatingIfNeeded: blocks), at: 0x4)
        s.le32(UInt32(truncatingIfNeeded: reserved), at: 0x8)
        s.le32(UInt32(truncatingIfNeeded: freeBlocks), at: 0xC)
        s.le32(UInt32(freeInodes), at: 0x10)
        s.le32(0, at: 0x14)  // first data block
        s.le32(2, at: 0x18)  // 1024 << 2
        s.le32(2, at: 0x1C)
        s.le32(UInt32(Ext4.blocksPerGroup), at: 0x20)
        s.le32(UInt32(Ext4.blocksPerGroup), at: 0x24)
        s.le32(UInt32(g.inodesPerGroup), at: 0x28)
        let (t, _) = Ext4.time(options.epoch)
        s.le32(0, at: 0x2C)  // never mounted
        s.le32(t, at: 0x30)
        s.le16(0, at: 0x34)
        s.le16(0xFFFF, at: 0x36)  // no mount-count check
        s.le16(0xEF53, at: 0x38)
        s.le16(1, at: 0x3A)  // clean
        s.le16(1, at: 0x3C)  // errors: continue
        s.le32(t, at: 0x40)
        s.le32(0, at: 0x48)  // Linux
        s.le32(1, at: 0x4C)  // dynamic revision
        s.le32(Ext4.firstIno, at: 0x54)
        s.le16(UInt16(Ext4.inodeSize), at: 0x58)
        s.le32(Ext4.compatHasJournal | Ext4.compatExtAttr | Ext4.compatDirIndex, at: 0x5C)
        s.le32(Ext4.incompatFiletype | Ext4.incompatExtents | Ext4.incompat64bit | Ext4.incompatFlexBG, at: 0x60)
        s.le32(Ext4.roSparseSuper | Ext4.roLargeFile | Ext4.roDirNlink | Ext4.roExtraIsize | Ext4.roMetadataCsum, at: 0x64)
        s.put(options.uuid.bytes, at: 0x68)
        s.put(Array(options.label.utf8.prefix(16)), at: 0x78)
        s.le32(Ext4.journalIno, at: 0xE0)
        s.put(options.uuid.bytes, at: 0xEC)  // directory hash seed
        s.u8(1, at: 0xFC)  // half_md4
        s.u8(1, at: 0xFD)  // s_jnl_blocks holds a copy of the journal's i_block
        s.le16(UInt16(Ext4.descSize), at: 0xFE)
        s.le32(0x000C, at: 0x100)  // user_xattr, acl
        s.le32(t, at: 0x108)
        // s_jnl_blocks: i_block[0..14], i_size_high, i_size.
        for i in 0..<15 {
            let v = UInt32(journal[i * 4]) | UInt32(journal[i * 4 + 1]) << 8 | UInt32(journal[i * 4 + 2]) << 16 | UInt32(journal[i * 4 + 3]) << 24
            s.le32(v, at: 0x10C + i * 4)
        }
        let journalBytes = Int64(g.journalBlocks) * Int64(Ext4.blockSize)
        s.le32(UInt32(truncatingIfNeeded: journalBytes >> 32), at: 0x10C + 15 * 4)
        s.le32(UInt32(truncatingIfNeeded: journalBytes), at: 0x10C + 16 * 4)
        s.le32(UInt32(truncatingIfNeeded: blocks >> 32), at: 0x150)
        s.le32(UInt32(truncatingIfNeeded: reserved >> 32), at: 0x154)
        s.le32(UInt32(truncatingIfNeeded: freeBlocks >> 32), at: 0x158)
        s.le16(UInt16(Ext4.extraIsize), at: 0x15C)
        s.le16(UInt16(Ext4.extraIsize), at: 0x15E)
        s.le32(0x1, at: 0x160)  // signed directory hash
        s.u8(4, at: 0x174)  // 16 groups per flex group
        s.u8(1, at: 0x175)  // checksum type: crc32c
        return s
    }

    /// Inode 8 and the journal superblock (JBD2 v2, big-endian). Returns the inode's i_block.
    private func writeJournal() throws -> [UInt8] {
        let count = geometry.journalBlocks
        let start = try allocator.contiguous(count, what: "the ext4 journal")
        var j = BinaryRecord(size: 1024)
        j.be32(0xC03B_3998, at: 0x0)
        j.be32(4, at: 0x4)  // superblock v2
        j.be32(UInt32(Ext4.blockSize), at: 0xC)
        j.be32(UInt32(count), at: 0x10)
        j.be32(1, at: 0x14)  // first log block
        j.be32(1, at: 0x18)  // sequence
        j.be32(0, at: 0x1C)  // start 0: the journal is empty
        j.put(options.uuid.bytes, at: 0x30)
        j.be32(1, at: 0x40)  // users
        try pwriteAll(j.bytes[...], at: start * Int64(Ext4.blockSize))
        let extents = [Ext4Extent(logical: 0, length: count, physical: start)]
        let (iblock, extra) = try extentTree(extents, ino: Ext4.journalIno, path: "<journal>")
        var inode = InodeFields(
            mode: 0o100600, size: UInt64(count) * UInt64(Ext4.blockSize), links: 1,
            blocks: Int64(count + extra), flags: Ext4.extentsFlag, time: options.epoch)
        inode.iblock = iblock
        putInode(Ext4.journalIno, inode)
        return iblock
    }

    // MARK: - Inodes

    struct InodeFields {
        var mode: UInt16
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var size: UInt64
        var links: Int
        /// File system blocks, data and metadata (extent leaves, xattr block).
        var blocks: Int64
        var flags: UInt32
        var time: Int64
        var iblock = [UInt8](repeating: 0, count: 60)
        var fileACL: Int64 = 0
        var inlineXattrs: [UInt8]? = nil

        init(mode: UInt16, size: UInt64, links: Int, blocks: Int64, flags: UInt32, time: Int64) {
            self.mode = mode
            self.size = size
            self.links = links
            self.blocks = blocks
            self.flags = flags
            self.time = time
        }
    }

    private func inodeSeed(_ ino: UInt32) -> UInt32 {
        CRC32C.update(CRC32C.update(csumSeed, le32: ino), le32: 0)  // generation 0
    }

    private func putInode(_ ino: UInt32, _ f: InodeFields) {
        var r = BinaryRecord(size: Ext4.inodeSize)
        r.le16(f.mode, at: 0x0)
        r.le16(UInt16(truncatingIfNeeded: f.uid), at: 0x2)
        r.le32(UInt32(truncatingIfNeeded: f.size), at: 0x4)
        let (t, extra) = Ext4.time(f.time)
        for off in [0x8, 0xC, 0x10, 0x90] { r.le32(t, at: off) }
        for off in [0x84, 0x88, 0x8C, 0x94] { r.le32(extra, at: off) }
        r.le16(UInt16(truncatingIfNeeded: f.gid), at: 0x18)
        r.le16(UInt16(f.links), at: 0x1A)
        let sectors = f.blocks * Int64(Ext4.blockSize / 512)
        r.le32(UInt32(truncatingIfNeeded: sectors), at: 0x1C)
        r.le16(UInt16(truncatingIfNeeded: sectors >> 32), at: 0x74)
        r.le32(f.flags, at: 0x20)
        r.put(f.iblock, at: 0x28)
        r.le32(UInt32(truncatingIfNeeded: f.fileACL), at: 0x68)
        r.le16(UInt16(truncatingIfNeeded: f.fileACL >> 32), at: 0x76)
        r.le32(UInt32(truncatingIfNeeded: f.size >> 32), at: 0x6C)
        r.le16(UInt16(truncatingIfNeeded: f.uid >> 16), at: 0x78)
        r.le16(UInt16(truncatingIfNeeded: f.gid >> 16), at: 0x7A)
        r.le16(UInt16(Ext4.extraIsize), at: 0x80)
        if let x = f.inlineXattrs { r.put(x, at: 0x80 + Ext4.extraIsize) }
        // Checksum fields (0x7C lo, 0x82 hi) are zero while the inode is summed.
        let c = CRC32C.update(inodeSeed(ino), r.bytes)
        r.le16(UInt16(truncatingIfNeeded: c), at: 0x7C)
        r.le16(UInt16(truncatingIfNeeded: c >> 16), at: 0x82)
        let at = (Int(ino) - 1) * Ext4.inodeSize
        inodeTable.replaceSubrange(at..<(at + Ext4.inodeSize), with: r.bytes)
    }

    private func writeInode(_ ino: UInt32, _ node: Node) throws {
        let e = node.entry
        let path = "/" + e.path
        var f: InodeFields
        switch e.kind {
        case .directory:
            let (blocks, indexed) = try directoryBlocks(ino: ino, parent: node.parent, children: node.children)
            var extents: [Ext4Extent] = []
            for (i, block) in blocks.enumerated() {
                let physical = try allocator.one(what: "the ext4 directory '\(path)'")
                try pwriteAll(block[...], at: physical * Int64(Ext4.blockSize))
                append(&extents, logical: UInt32(i), physical: physical)
            }
            let (iblock, extra) = try extentTree(extents, ino: ino, path: path)
            f = InodeFields(
                mode: 0o040000 | UInt16(e.mode), size: UInt64(blocks.count * Ext4.blockSize), links: node.links,
                blocks: Int64(blocks.count + extra), flags: Ext4.extentsFlag | (indexed ? Ext4.indexFlag : 0), time: e.mtime)
            f.iblock = iblock
            let group = (Int(ino) - 1) / geometry.inodesPerGroup
            dirCount[group] += 1
        case let .regular(source):
            let (extents, length) = try writeContent(source, path: path)
            let (iblock, extra) = try extentTree(extents, ino: ino, path: path)
            let dataBlocks = extents.reduce(0) { $0 + $1.length }
            f = InodeFields(
                mode: 0o100000 | UInt16(e.mode), size: UInt64(length), links: node.links,
                blocks: Int64(dataBlocks + extra), flags: Ext4.extentsFlag, time: e.mtime)
            f.iblock = iblock
        case let .symlink(target):
            let bytes = Array(target.utf8)
            guard !bytes.isEmpty, bytes.count < Ext4.blockSize, !bytes.contains(0) else {
                throw DiskError.unsupportedEntry(path: path, filesystem: "ext4", detail: "a symlink target must be 1 to 4095 bytes without NUL")
            }
            if bytes.count < 60 {
                // Fast symlink: the target lives in i_block.
                f = InodeFields(mode: 0o120000 | UInt16(e.mode), size: UInt64(bytes.count), links: node.links, blocks: 0, flags: 0, time: e.mtime)
                f.iblock = bytes + [UInt8](repeating: 0, count: 60 - bytes.count)
            } else {
                let physical = try allocator.one(what: "the ext4 symlink '\(path)'")
                try pwriteAll((bytes + [UInt8](repeating: 0, count: Ext4.blockSize - bytes.count))[...], at: physical * Int64(Ext4.blockSize))
                let (iblock, extra) = try extentTree([Ext4Extent(logical: 0, length: 1, physical: physical)], ino: ino, path: path)
                f = InodeFields(
                    mode: 0o120000 | UInt16(e.mode), size: UInt64(bytes.count), links: node.links,
                    blocks: Int64(1 + extra), flags: Ext4.extentsFlag, time: e.mtime)
                f.iblock = iblock
            }
        case let .characterDevice(major, minor), let .blockDevice(major, minor):
            let isChar: Bool = { if case .characterDevice = e.kind { return true } else { return false } }()
            f = InodeFields(mode: (isChar ? 0o020000 : 0o060000) | UInt16(e.mode), size: 0, links: node.links, blocks: 0, flags: 0, time: e.mtime)
            var r = BinaryRecord(size: 60)
            if major < 256 && minor < 256 {
                r.le32((major << 8) | minor, at: 0)  // old encoding in i_block[0]
            } else {
                r.le32((minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12), at: 4)  // new encoding in i_block[1]
            }
            f.iblock = r.bytes
        case .fifo:
            f = InodeFields(mode: 0o010000 | UInt16(e.mode), size: 0, links: node.links, blocks: 0, flags: 0, time: e.mtime)
        case .hardlink:
            return  // never a node of its own
        }
        f.uid = e.uid
        f.gid = e.gid
        if !e.xattrs.isEmpty { try placeXattrs(e.xattrs, ino: ino, path: path, into: &f) }
        putInode(ino, f)
    }

    /// Adds a block to an extent list, extending the last extent when both sides are contiguous.
    private func append(_ extents: inout [Ext4Extent], logical: UInt32, physical: Int64) {
        if var last = extents.last, last.length < Ext4.maxExtentLength,
            last.logical + UInt32(last.length) == logical, last.physical + Int64(last.length) == physical
        {
            last.length += 1
            extents[extents.count - 1] = last
        } else {
            extents.append(Ext4Extent(logical: logical, length: 1, physical: physical))
        }
    }

    /// Copies a file's content into newly allocated blocks; all-zero blocks stay holes.
    private func writeContent(_ source: FileTree.Content, path: String) throws -> ([Ext4Extent], Int64) {
        var extents: [Ext4Extent] = []
        let chunkBlocks = 256
        var buffer = [UInt8](repeating: 0, count: chunkBlocks * Ext4.blockSize)
        var logical: UInt32 = 0
        // A run of blocks written with one pwrite: its first physical block and byte range in `buffer`.
        var length: Int64 = 0
        try content.read(source, path: path) { chunk in
            // Chunks arrive in multiples of the block size except the last.
            var offset = 0
            var runStart = -1, runPhysical: Int64 = 0, runBlocks = 0
            func flush() throws {
                guard runBlocks > 0 else { return }
                try pwriteAll(buffer[runStart..<(runStart + runBlocks * Ext4.blockSize)], at: runPhysical * Int64(Ext4.blockSize))
                runBlocks = 0
            }
            buffer.withUnsafeMutableBytes { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk[0..<min(chunk.count, dst.count)]))
            }
            let used = chunk.count
            if used % Ext4.blockSize != 0 {
                for i in used..<((used + Ext4.blockSize - 1) / Ext4.blockSize * Ext4.blockSize) { buffer[i] = 0 }
            }
            while offset < used {
                let zero = buffer.withUnsafeBytes { ZeroCheck.isZero(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + Ext4.blockSize)])) }
                if zero {
                    try flush()
                } else {
                    let physical = try allocator.one(what: "the content of '\(path)'")
                    if runBlocks > 0 && runPhysical + Int64(runBlocks) == physical {
                        runBlocks += 1
                    } else {
                        try flush()
                        runStart = offset
                        runPhysical = physical
                        runBlocks = 1
                    }
                    append(&extents, logical: logical, physical: physical)
                }
                guard logical < UInt32.max else {
                    throw DiskError.unsupportedEntry(path: path, filesystem: "ext4", detail: "the file is larger than 16 TiB")
                }
                logical += 1
                offset += Ext4.blockSize
            }
            try flush()
            length += Int64(used)
        }
        return (extents, length)
    }

    /// i_block for `extents`: the extents themselves when at most 4, else an index of up to 4
    /// leaf blocks (340 extents each). Returns i_block and the number of leaf blocks allocated.
    private func extentTree(_ extents: [Ext4Extent], ino: UInt32, path: String) throws -> ([UInt8], Int) {
        func header(_ r: inout BinaryRecord, entries: Int, max: Int, depth: Int) {
            r.le16(Ext4.extentMagic, at: 0)
            r.le16(UInt16(entries), at: 2)
            r.le16(UInt16(max), at: 4)
            r.le16(UInt16(depth), at: 6)
        }
        func leafEntry(_ r: inout BinaryRecord, _ e: Ext4Extent, at off: Int) {
            r.le32(e.logical, at: off)
            r.le16(UInt16(e.length), at: off + 4)
            r.le16(UInt16(truncatingIfNeeded: e.physical >> 32), at: off + 6)
            r.le32(UInt32(truncatingIfNeeded: e.physical), at: off + 8)
        }
        var root = BinaryRecord(size: 60)
        if extents.count <= 4 {
            header(&root, entries: extents.count, max: 4, depth: 0)
            for (i, e) in extents.enumerated() { leafEntry(&root, e, at: 12 + i * 12) }
            return (root.bytes, 0)
        }
        let perLeaf = (Ext4.blockSize - 12) / 12  // 340; the checksum tail takes the last 4 bytes
        let leaves = stride(from: 0, to: extents.count, by: perLeaf).map { Array(extents[$0..<min($0 + perLeaf, extents.count)]) }
        guard leaves.count <= 4 else {
            throw DiskError.unsupportedEntry(
                path: path, filesystem: "ext4", detail: "the file needs \(extents.count) extents (at most \(4 * perLeaf))")
        }
        header(&root, entries: leaves.count, max: 4, depth: 1)
        let seed = inodeSeed(ino)
        for (i, leaf) in leaves.enumerated() {
            let block = try allocator.one(what: "the extent tree of '\(path)'")
            var r = BinaryRecord(size: Ext4.blockSize)
            header(&r, entries: leaf.count, max: perLeaf, depth: 0)
            for (j, e) in leaf.enumerated() { leafEntry(&r, e, at: 12 + j * 12) }
            let tail = 12 + perLeaf * 12
            r.le32(CRC32C.update(seed, Array(r.bytes[0..<tail])), at: tail)
            try pwriteAll(r.bytes[...], at: block * Int64(Ext4.blockSize))
            let off = 12 + i * 12
            root.le32(leaf[0].logical, at: off)
            root.le32(UInt32(truncatingIfNeeded: block), at: off + 4)
            root.le16(UInt16(truncatingIfNeeded: block >> 32), at: off + 8)
        }
        return (root.bytes, leaves.count)
    }

    /// A directory's blocks: linear when everything fits in one block, else hashed (htree,
    /// half-MD4 with the superblock's seed): a root block indexing leaf blocks, through one level
    /// of index nodes when more than 507 leaves are needed. Returns the blocks in logical order
    /// and whether the directory is indexed.
    private func directoryBlocks(ino: UInt32, parent: UInt32, children: [DirEntry]) throws -> ([[UInt8]], Bool) {
        let seed = inodeSeed(ino)
        let dots = [
            DirEntry(name: Array(".".utf8), ino: ino, type: Ext4.ftDirectory),
            DirEntry(name: Array("..".utf8), ino: parent, type: Ext4.ftDirectory),
        ]
        let linear = Self.packLeaves(dots + children, seed: seed)
        if linear.count == 1 { return ([linear[0].block], false) }

        let hashed = children.map { (entry: $0, hash: DirHash.halfMD4($0.name, seed: options.uuid.bytes)) }
            .sorted {
                ($0.hash.major, $0.hash.minor) < ($1.hash.major, $1.hash.minor)
                    || (($0.hash.major, $0.hash.minor) == ($1.hash.major, $1.hash.minor) && $0.entry.name.lexicographicallyPrecedes($1.entry.name))
            }
        let leaves = Self.packLeaves(hashed.map(\.entry), seed: seed, hashes: hashed.map(\.hash.major))
        let rootLimit = (Ext4.blockSize - 32 - 8) / 8  // 507
        let nodeLimit = (Ext4.blockSize - 8 - 8) / 8  // 510
        // (hash, logical block) for every leaf; the first covers hashes from 0.
        let levels = leaves.count <= rootLimit ? 0 : 1
        var blocks: [[UInt8]] = []
        var rootEntries: [(UInt32, UInt32)] = []
        if levels == 0 {
            rootEntries = leaves.enumerated().map { (i, leaf) in (leaf.hash, UInt32(1 + i)) }
            blocks.append([])  // root, filled below
            blocks += leaves.map(\.block)
        } else {
            let groups = stride(from: 0, to: leaves.count, by: nodeLimit).map { Array(leaves[$0..<min($0 + nodeLimit, leaves.count)]) }
            guard groups.count <= rootLimit else {
                throw DiskError.unsupportedEntry(
                    path: "inode \(ino)", filesystem: "ext4", detail: "a directory of \(children.count) entries needs more than two index levels")
            }
            blocks.append([])
            let firstLeaf = 1 + groups.count
            var leafNumber = firstLeaf
            for (i, group) in groups.enumerated() {
                var r = BinaryRecord(size: Ext4.blockSize)
                r.le32(0, at: 0)
                r.le16(UInt16(Ext4.blockSize), at: 4)  // a fake empty entry spanning the block
                let entries = group.enumerated().map { (j, leaf) in (leaf.hash, UInt32(leafNumber + j)) }
                Self.indexEntries(&r, countAt: 8, limit: nodeLimit, entries: entries, seed: seed)
                leafNumber += group.count
                blocks.append(r.bytes)
                rootEntries.append((group[0].hash, UInt32(1 + i)))
            }
            blocks += leaves.map(\.block)
        }
        var root = BinaryRecord(size: Ext4.blockSize)
        root.le32(ino, at: 0)
        root.le16(12, at: 4)
        root.u8(1, at: 6)
        root.u8(Ext4.ftDirectory, at: 7)
        root.put(Array(".".utf8), at: 8)
        root.le32(parent, at: 12)
        root.le16(UInt16(Ext4.blockSize - 12), at: 16)
        root.u8(2, at: 18)
        root.u8(Ext4.ftDirectory, at: 19)
        root.put(Array("..".utf8), at: 20)
        root.le32(0, at: 24)  // dx_root_info: reserved
        root.u8(1, at: 28)  // half_md4
        root.u8(8, at: 29)  // info length
        root.u8(UInt8(levels), at: 30)
        Self.indexEntries(&root, countAt: 32, limit: rootLimit, entries: rootEntries, seed: seed)
        blocks[0] = root.bytes
        return (blocks, true)
    }

    /// dx_countlimit, dx_entries (the first one's hash slot holds count and limit) and the
    /// dx_tail with its checksum.
    private static func indexEntries(_ r: inout BinaryRecord, countAt: Int, limit: Int, entries: [(UInt32, UInt32)], seed: UInt32) {
        r.le16(UInt16(limit), at: countAt)
        r.le16(UInt16(entries.count), at: countAt + 2)
        for (i, (hash, block)) in entries.enumerated() {
            if i > 0 { r.le32(hash, at: countAt + i * 8) }
            r.le32(block, at: countAt + i * 8 + 4)
        }
        let tail = countAt + limit * 8
        var c = CRC32C.update(seed, Array(r.bytes[0..<(countAt + entries.count * 8)]))
        c = CRC32C.update(c, Array(r.bytes[tail..<(tail + 4)]))
        c = CRC32C.update(c, le32: 0)
        r.le32(c, at: tail + 4)
    }

    /// Packs entries into directory blocks in order, each ending with the 12-byte checksum
    /// tail. With `hashes`, an entry whose hash equals the previous one's may still start a new
    /// block: its index hash then carries the collision bit. Returns each block with the hash
    /// its index entry holds.
    static func packLeaves(_ entries: [DirEntry], seed: UInt32, hashes: [UInt32]? = nil) -> [(block: [UInt8], hash: UInt32)] {
        let limit = Ext4.blockSize - 12
        var out: [(block: [UInt8], hash: UInt32)] = []
        var r = BinaryRecord(size: Ext4.blockSize)
        var offset = 0
        var lastOffset = 0
        var blockHash: UInt32 = 0
        func finish() {
            // The last entry takes the rest of the block up to the tail.
            r.le16(UInt16(limit - lastOffset), at: lastOffset + 4)
            r.le32(0, at: limit)
            r.le16(12, at: limit + 4)
            r.u8(0, at: limit + 6)
            r.u8(0xDE, at: limit + 7)
            r.le32(CRC32C.update(seed, Array(r.bytes[0..<limit])), at: limit + 8)
            out.append((r.bytes, blockHash))
            r = BinaryRecord(size: Ext4.blockSize)
            offset = 0
        }
        for (i, e) in entries.enumerated() {
            let length = (8 + e.name.count + 3) & ~3
            if offset + length > limit {
                finish()
                if let hashes {
                    blockHash = hashes[i] | (i > 0 && hashes[i - 1] == hashes[i] ? 1 : 0)
                }
            }
            r.le32(e.ino, at: offset)
            r.le16(UInt16(length), at: offset + 4)
            r.u8(UInt8(e.name.count), at: offset + 6)
            r.u8(e.type, at: offset + 7)
            r.put(e.name, at: offset + 8)
            lastOffset = offset
            offset += length
        }
        if offset > 0 || out.isEmpty {
            if offset == 0 {
                // An empty leaf: one unused entry spanning it.
                r.le16(UInt16(limit), at: 4)
            }
            finish()
        }
        return out
    }

    // MARK: - Extended attributes

    /// Name prefixes and their index (kernel fs/ext4/xattr.h).
    static let xattrPrefixes: [(String, UInt8)] = [("user.", 1), ("trusted.", 4), ("security.", 6)]
    static let aclNames: [(UInt8, String)] = [(2, "system.posix_acl_access"), (3, "system.posix_acl_default")]

    /// A POSIX ACL from the VFS layout tar carries (version 2; 8-byte entries of tag, perm, id)
    /// to ext4's (version 1; 4-byte entries for the owner, group, mask and other classes,
    /// 8-byte ones for named users and groups), as the kernel's ext4_acl_to_disk does.
    static func aclToDisk(_ v: [UInt8], key: String, path: String) throws -> [UInt8] {
        func le16(_ o: Int) -> UInt16 { UInt16(v[o]) | UInt16(v[o + 1]) << 8 }
        guard v.count >= 4, (v.count - 4) % 8 == 0, v[0] == 2, v[1] == 0, v[2] == 0, v[3] == 0 else {
            throw DiskError.unsupportedEntry(path: path, filesystem: "ext4", detail: "'\(key)' is not a version 2 POSIX ACL")
        }
        var out = BinaryRecord(size: 4 + (v.count - 4))
        out.le32(1, at: 0)
        var at = 4
        for o in stride(from: 4, to: v.count, by: 8) {
            let tag = le16(o)
            out.le16(tag, at: at)
            out.le16(le16(o + 2), at: at + 2)
            switch tag {
            case 0x01, 0x04, 0x10, 0x20: at += 4  // USER_OBJ, GROUP_OBJ, MASK, OTHER
            case 0x02, 0x08:  // USER, GROUP: with the id
                out.put(v[(o + 4)..<(o + 8)], at: at + 4)
                at += 8
            default:
                throw DiskError.unsupportedEntry(path: path, filesystem: "ext4", detail: "'\(key)' holds an unknown ACL tag \(tag)")
            }
        }
        return Array(out.bytes[0..<at])
    }

    struct XattrEntry {
        var index: UInt8
        var name: [UInt8]
        var value: [UInt8]
        var hash: UInt32 {
            var h: UInt32 = 0
            for c in name { h = (h << 5) ^ (h >> 27) ^ UInt32(bitPattern: Int32(Int8(bitPattern: c))) }
            var i = 0
            while i < value.count {
                var w: UInt32 = 0
                for k in 0..<4 where i + k < value.count { w |= UInt32(value[i + k]) << (8 * UInt32(k)) }
                h = (h << 16) ^ (h >> 16) ^ w
                i += 4
            }
            return h
        }
    }

    private func placeXattrs(_ xattrs: [String: Data], ino: UInt32, path: String, into f: inout InodeFields) throws {
        var entries: [XattrEntry] = []
        for (key, value) in xattrs {
            if let (index, _) = Self.aclNames.first(where: { $0.1 == key }) {
                // POSIX ACLs: stored by index alone, in ext4's own layout.
                entries.append(XattrEntry(index: index, name: [], value: try Self.aclToDisk(Array(value), key: key, path: path)))
                continue
            }
            guard let (prefix, index) = Self.xattrPrefixes.first(where: { key.hasPrefix($0.0) && key.count > $0.0.count }) else {
                throw DiskError.unsupportedEntry(
                    path: path, filesystem: "ext4",
                    detail: "extended attribute '\(key)' is not in the user, trusted or security namespace nor a POSIX ACL")
            }
            let name = Array(key.utf8.dropFirst(prefix.utf8.count))
            guard name.count <= 255 else {
                throw DiskError.unsupportedEntry(path: path, filesystem: "ext4", detail: "extended attribute name '\(key)' is too long")
            }
            entries.append(XattrEntry(index: index, name: name, value: Array(value)))
        }
        entries.sort {
            ($0.index, $0.name.count) < ($1.index, $1.name.count)
                || (($0.index, $0.name.count) == ($1.index, $1.name.count) && $0.name.lexicographicallyPrecedes($1.name))
        }
        let pad = { (n: Int) in (n + 3) & ~3 }
        let entryBytes = entries.reduce(0) { $0 + 16 + pad($1.name.count) } + 4
        let valueBytes = entries.reduce(0) { $0 + pad($1.value.count) }
        let inlineSize = Ext4.inodeSize - 128 - Ext4.extraIsize
        if 4 + entryBytes + valueBytes <= inlineSize {
            // In the inode: magic, entries (value offsets from the first entry), values at the end.
            var r = BinaryRecord(size: inlineSize)
            r.le32(Ext4.xattrMagic, at: 0)
            encodeXattrs(entries, into: &r, entriesAt: 4, valuesEnd: inlineSize, offsetBase: 4)
            f.inlineXattrs = r.bytes
            return
        }
        guard 32 + entryBytes + valueBytes <= Ext4.blockSize else {
            throw DiskError.unsupportedEntry(
                path: path, filesystem: "ext4", detail: "extended attributes take \(entryBytes + valueBytes) bytes (at most one block)")
        }
        let block = try allocator.one(what: "the extended attributes of '\(path)'")
        var r = BinaryRecord(size: Ext4.blockSize)
        r.le32(Ext4.xattrMagic, at: 0)
        r.le32(1, at: 4)  // refcount
        r.le32(1, at: 8)  // blocks
        encodeXattrs(entries, into: &r, entriesAt: 32, valuesEnd: Ext4.blockSize, offsetBase: 0)
        var h: UInt32 = 0
        for e in entries { h = (h << 16) ^ (h >> 16) ^ e.hash }
        r.le32(h, at: 0xC)
        var c = withUnsafeBytes(of: UInt64(block).littleEndian) { CRC32C.update(csumSeed, $0) }
        c = CRC32C.update(c, r.bytes)
        r.le32(c, at: 0x10)
        try pwriteAll(r.bytes[...], at: block * Int64(Ext4.blockSize))
        f.fileACL = block
        f.blocks += 1
    }

    private func encodeXattrs(_ entries: [XattrEntry], into r: inout BinaryRecord, entriesAt: Int, valuesEnd: Int, offsetBase: Int) {
        var at = entriesAt
        var valueAt = valuesEnd
        for e in entries {
            valueAt -= (e.value.count + 3) & ~3
            r.u8(UInt8(e.name.count), at: at)
            r.u8(e.index, at: at + 1)
            r.le16(UInt16(e.value.isEmpty ? 0 : valueAt - offsetBase), at: at + 2)
            r.le32(0, at: at + 4)  // value in this block/inode
            r.le32(UInt32(e.value.count), at: at + 8)
            r.le32(e.hash, at: at + 12)
            r.put(e.name, at: at + 16)
            r.put(e.value, at: valueAt)
            at += 16 + ((e.name.count + 3) & ~3)
        }
    }

    // MARK: - I/O

    private func pwriteAll(_ bytes: ArraySlice<UInt8>, at offset: Int64) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DiskError.io(path: url.path, operation: "write", errno: errno)
                }
                done += n
            }
        }
    }
}

/// Reads file contents for the writer, keeping the last host file open (a base tarball's
/// members are ranges of one file).
final class ContentReader {
    private var openPath: String?
    private var fd: Int32 = -1
    private let chunk = 1 << 20
    private var buffer: UnsafeMutableRawBufferPointer

    init() { buffer = .allocate(byteCount: 1 << 20, alignment: 4096) }
    deinit {
        if fd >= 0 { Glibc.close(fd) }
        buffer.deallocate()
    }

    func close() throws {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        openPath = nil
    }

    /// Calls `body` with consecutive pieces of the content, each a multiple of 4096 bytes
    /// except the last.
    func read(_ source: FileTree.Content, path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch source {
        case let .bytes(data):
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = min(chunk, raw.count - offset)
                    try body(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]))
                    offset += n
                }
            }
        case let .file(url):
            try openFile(url)
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw DiskError.io(path: url.path, operation: "stat", errno: errno) }
            try readRange(url, offset: 0, length: Int64(st.st_size), body)
        case let .range(url, offset, length):
            try openFile(url)
            try readRange(url, offset: offset, length: length, body)
        }
    }

    private func openFile(_ url: URL) throws {
        if openPath == url.path { return }
        try close()
        fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DiskError.io(path: url.path, operation: "open", errno: errno) }
        openPath = url.path
    }

    private func readRange(_ url: URL, offset: Int64, length: Int64, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var done: Int64 = 0
        while done < length {
            let want = Int(min(Int64(chunk), length - done))
            var got = 0
            while got < want {
                let n = pread(fd, buffer.baseAddress! + got, want - got, off_t(offset + done + Int64(got)))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DiskError.io(path: url.path, operation: "read", errno: errno)
                }
                if n == 0 {
                    throw DiskError.corrupt(
                        path: url.path, offset: offset + done + Int64(got), detail: "the file ends before the content it should hold")
                }
                got += n
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<want]))
            done += Int64(want)
        }
    }
}

/// ext4's directory hash (kernel fs/ext4/hash.c, DX_HASH_HALF_MD4 with signed characters, as
/// the superblock's "signed hash" flag says): the name in 32-byte pieces, each spread over
/// eight words padded with its length, stirred by a cut-down MD4 seeded with s_hash_seed.
enum DirHash {
    static func halfMD4(_ name: [UInt8], seed: [UInt8]) -> (major: UInt32, minor: UInt32) {
        var buf: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476]
        if seed.count == 16, seed.contains(where: { $0 != 0 }) {
            for i in 0..<4 {
                buf[i] = UInt32(seed[4 * i]) | UInt32(seed[4 * i + 1]) << 8 | UInt32(seed[4 * i + 2]) << 16 | UInt32(seed[4 * i + 3]) << 24
            }
        }
        var position = 0
        var remaining = name.count
        repeat {
            let words = spread(Array(name[position...]), remaining: remaining)
            transform(&buf, words)
            remaining -= 32
            position += 32
        } while remaining > 0
        var major = buf[1] & ~1
        if major == 0x7FFF_FFFF << 1 { major = (0x7FFF_FFFF - 1) << 1 }
        return (major, buf[2])
    }

    /// str2hashbuf, signed variant: eight words from up to 32 bytes.
    private static func spread(_ bytes: [UInt8], remaining: Int) -> [UInt32] {
        var pad = UInt32(truncatingIfNeeded: remaining) | UInt32(truncatingIfNeeded: remaining) << 8
        pad |= pad << 16
        var out: [UInt32] = []
        var value = pad
        let n = min(remaining, 32)
        for i in 0..<n {
            value = UInt32(bitPattern: Int32(Int8(bitPattern: bytes[i]))) &+ (value << 8)
            if i % 4 == 3 {
                out.append(value)
                value = pad
            }
        }
        if out.count < 8 && n % 4 != 0 { out.append(value) }
        while out.count < 8 { out.append(pad) }
        return out
    }

    private static func transform(_ buf: inout [UInt32], _ x: [UInt32]) {
        var a = buf[0], b = buf[1], c = buf[2], d = buf[3]
        func rol(_ v: UInt32, _ s: UInt32) -> UInt32 { (v << s) | (v >> (32 - s)) }
        func f(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { z ^ (x & (y ^ z)) }
        func g(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { (x & y) &+ ((x ^ y) & z) }
        func h(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { x ^ y ^ z }
        let k2: UInt32 = 0o13240474631, k3: UInt32 = 0o15666365641
        // Round 1
        a = rol(a &+ f(b, c, d) &+ x[0], 3); d = rol(d &+ f(a, b, c) &+ x[1], 7)
        c = rol(c &+ f(d, a, b) &+ x[2], 11); b = rol(b &+ f(c, d, a) &+ x[3], 19)
        a = rol(a &+ f(b, c, d) &+ x[4], 3); d = rol(d &+ f(a, b, c) &+ x[5], 7)
        c = rol(c &+ f(d, a, b) &+ x[6], 11); b = rol(b &+ f(c, d, a) &+ x[7], 19)
        // Round 2
        a = rol(a &+ g(b, c, d) &+ x[1] &+ k2, 3); d = rol(d &+ g(a, b, c) &+ x[3] &+ k2, 5)
        c = rol(c &+ g(d, a, b) &+ x[5] &+ k2, 9); b = rol(b &+ g(c, d, a) &+ x[7] &+ k2, 13)
        a = rol(a &+ g(b, c, d) &+ x[0] &+ k2, 3); d = rol(d &+ g(a, b, c) &+ x[2] &+ k2, 5)
        c = rol(c &+ g(d, a, b) &+ x[4] &+ k2, 9); b = rol(b &+ g(c, d, a) &+ x[6] &+ k2, 13)
        // Round 3
        a = rol(a &+ h(b, c, d) &+ x[3] &+ k3, 3); d = rol(d &+ h(a, b, c) &+ x[7] &+ k3, 9)
        c = rol(c &+ h(d, a, b) &+ x[2] &+ k3, 11); b = rol(b &+ h(c, d, a) &+ x[6] &+ k3, 15)
        a = rol(a &+ h(b, c, d) &+ x[1] &+ k3, 3); d = rol(d &+ h(a, b, c) &+ x[5] &+ k3, 9)
        c = rol(c &+ h(d, a, b) &+ x[0] &+ k3, 11); b = rol(b &+ h(c, d, a) &+ x[4] &+ k3, 15)
        buf[0] = buf[0] &+ a; buf[1] = buf[1] &+ b; buf[2] = buf[2] &+ c; buf[3] = buf[3] &+ d
    }
}
