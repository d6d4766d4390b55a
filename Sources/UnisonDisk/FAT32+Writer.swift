import FoundationEssentials
import UnisonArchive

/// A FAT32 volume laid out from a `FileTree`: the reserved region, both FATs and the
/// directories as bytes, file contents as references to their sources (nothing is copied).
/// Clusters are allocated contiguously in the tree's walk order (directories and files by
/// byte order of their names), so the same tree gives the same bytes.
package struct FAT32Volume: Sendable {
    package var geometry: FAT32Geometry
    package var size: Int64
    /// Extents relative to the start of the volume.
    package var extents: [DiskLayout.Extent]
    package var usedClusters: Int64
    package var label: String
    package var volumeID: UInt32

    package struct Options: Sendable {
        package var label: String
        package var volumeID: UInt32
        /// The partition's first LBA (BPB_HiddSec).
        package var hiddenSectors: UInt32
        package init(label: String, volumeID: UInt32, hiddenSectors: UInt32) {
            self.label = label
            self.volumeID = volumeID
            self.hiddenSectors = hiddenSectors
        }
    }

    /// Lays out `tree` on a volume of `size` bytes. Regular files, hard links (stored as
    /// copies) and directories only; mtimes become the entries' DOS times.
    package static func build(_ tree: FileTree, size: Int64, options: Options) throws -> FAT32Volume {
        guard size % 512 == 0 else { throw DiskError.misaligned(what: "FAT32 volume size", value: size, alignment: 512) }
        let g = try FAT32Geometry.choose(volumeBytes: size)
        let clusterSize = Int64(g.clusterSize)

        // Pass 1: names and sizes; cluster numbers in walk order.
        struct Node {
            var entry: FileTree.Entry
            var content: FileTree.Content?
            var children: [String] = []
            var longName: String = ""
            var shortName: [UInt8] = []
            var firstCluster: UInt32 = 0
            var clusters: Int64 = 0
            var byteSize: Int64 = 0
        }
        var nodes: [String: Node] = [:]
        var order: [String] = []
        for entry in tree.walk() {
            var node = Node(entry: entry)
            switch entry.kind {
            case .directory: break
            case let .regular(content): node.content = content
            case let .hardlink(target):
                guard case let .regular(content)? = tree[target]?.kind else {
                    throw DiskError.unsupportedEntry(path: entry.path, filesystem: "FAT32", detail: "hard link to a missing file")
                }
                node.content = content
            case .symlink: throw DiskError.unsupportedEntry(path: entry.path, filesystem: "FAT32", detail: "FAT has no symbolic links")
            default: throw DiskError.unsupportedEntry(path: entry.path, filesystem: "FAT32", detail: "FAT holds only files and directories")
            }
            if !entry.path.isEmpty {
                let name = String(entry.path.split(separator: "/").last!)
                try FATNames.validate(name, path: entry.path)
                node.longName = name
                let parent = entry.path.contains("/") ? String(entry.path[..<entry.path.lastIndex(of: "/")!]) : ""
                nodes[parent]!.children.append(entry.path)
            }
            nodes[entry.path] = node
            order.append(entry.path)
        }
        // Short names per directory, unique case-insensitively.
        for path in order where nodes[path]!.entry.isDirectory {
            var taken = Set<[UInt8]>()
            var seenLong = Set<String>()
            for child in nodes[path]!.children {
                let name = nodes[child]!.longName
                guard seenLong.insert(name.uppercased()).inserted else {
                    throw DiskError.unsupportedEntry(path: child, filesystem: "FAT32", detail: "another name in the directory differs only in case")
                }
                let short =
                    FATNames.exactShortName(name).flatMap { taken.contains($0) ? nil : $0 }
                    ?? FATNames.generatedShortName(name, taken: taken)
                taken.insert(short)
                nodes[child]!.shortName = short
            }
        }
        var nextCluster: UInt32 = 2
        for path in order {
            var node = nodes[path]!
            if node.entry.isDirectory {
                var count = path.isEmpty ? 1 : 2  // volume label, or "." and ".."
                for child in node.children {
                    let c = nodes[child]!
                    count += 1 + (FATNames.exactShortName(c.longName) == c.shortName ? 0 : (c.longName.utf16.count + 12) / 13)
                }
                node.byteSize = Int64(count * 32)
                node.clusters = max(1, (node.byteSize + clusterSize - 1) / clusterSize)
            } else {
                node.byteSize = node.content!.size
                guard node.byteSize <= Int64(UInt32.max) else {
                    throw DiskError.unsupportedEntry(path: path, filesystem: "FAT32", detail: "files are limited to 4 GiB - 1")
                }
                node.clusters = (node.byteSize + clusterSize - 1) / clusterSize
            }
            if node.clusters > 0 {
                node.firstCluster = nextCluster
                nextCluster += UInt32(node.clusters)
            }
            nodes[path] = node
        }
        let used = Int64(nextCluster) - 2
        guard used <= g.clusterCount else {
            throw DiskError.doesNotFit(what: "the ESP content", needed: used * clusterSize, available: g.clusterCount * clusterSize)
        }

        // Pass 2: FAT, directories, extents.
        var fat = BinaryRecord(size: Int(((Int64(nextCluster) * 4 + 511) / 512) * 512))
        fat.le32(0x0FFF_FFF8, at: 0)
        fat.le32(0x0FFF_FFFF, at: 4)
        var extents: [DiskLayout.Extent] = []
        for path in order {
            let node = nodes[path]!
            guard node.clusters > 0 else { continue }
            let first = node.firstCluster
            for i in 0..<UInt32(node.clusters) {
                let c = first + i
                fat.le32(i + 1 == UInt32(node.clusters) ? 0x0FFF_FFFF : c + 1, at: Int(c) * 4)
            }
            let offset = g.offset(ofCluster: first)
            if node.entry.isDirectory {
                var bytes: [UInt8] = []
                let time = DOSTime(epochSeconds: node.entry.mtime)
                if path.isEmpty {
                    bytes += FATNames.shortEntry(
                        FATNames.pad(Array(options.label.uppercased().utf8.prefix(11)), 11),
                        attributes: FATAttribute.volumeID, cluster: 0, size: 0, time: time)
                } else {
                    let parentPath = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : ""
                    let parentCluster = parentPath.isEmpty ? 0 : nodes[parentPath]!.firstCluster
                    bytes += FATNames.shortEntry(
                        FATNames.pad(Array(".".utf8), 11), attributes: FATAttribute.directory,
                        cluster: first, size: 0, time: time)
                    bytes += FATNames.shortEntry(
                        FATNames.pad(Array("..".utf8), 11), attributes: FATAttribute.directory,
                        cluster: parentCluster, size: 0, time: time)
                }
                for child in node.children {
                    let c = nodes[child]!
                    if FATNames.exactShortName(c.longName) != c.shortName {
                        bytes += FATNames.longEntries(c.longName, shortName: c.shortName).joined()
                    }
                    let isDir = c.entry.isDirectory
                    var attributes = isDir ? FATAttribute.directory : FATAttribute.archive
                    if !isDir, c.entry.mode & 0o222 == 0 { attributes |= FATAttribute.readOnly }
                    bytes += FATNames.shortEntry(
                        c.shortName, attributes: attributes, cluster: c.firstCluster,
                        size: isDir ? 0 : UInt32(c.byteSize), time: DOSTime(epochSeconds: c.entry.mtime))
                }
                extents.append(.init(offset: offset, source: .bytes(Data(bytes))))
            } else {
                let source: DiskLayout.Source
                switch node.content! {
                case let .bytes(d): source = .bytes(d)
                case let .file(url): source = .file(url, offset: 0, length: node.byteSize)
                case let .range(url, off, len): source = .file(url, offset: off, length: len)
                }
                extents.append(.init(offset: offset, source: source))
            }
        }

        let boot = FAT32BootSector(
            geometry: g, hiddenSectors: options.hiddenSectors, volumeID: options.volumeID,
            label: options.label.uppercased()
        ).encode()
        // FSI_Nxt_Free is read by Linux and mtools as the last allocated cluster (the search starts after it).
        let info = FAT32BootSector.fsInfo(freeClusters: UInt32(g.clusterCount - used), nextFree: nextCluster - 1)
        var reserved = BinaryRecord(size: FAT32Geometry.reservedSectors * 512)
        reserved.put(boot, at: 0)
        reserved.put(info, at: 512)
        reserved.put(boot, at: 6 * 512)
        reserved.put(info, at: 7 * 512)
        var all: [DiskLayout.Extent] = [.init(offset: 0, source: .bytes(reserved.data))]
        for copy in 0..<Int64(FAT32Geometry.fatCount) {
            let fatOffset = (Int64(FAT32Geometry.reservedSectors) + copy * g.fatSectors) * 512
            all.append(.init(offset: fatOffset, source: .bytes(fat.data)))
        }
        all += extents
        return FAT32Volume(
            geometry: g, size: size, extents: all, usedClusters: used,
            label: options.label.uppercased(), volumeID: options.volumeID)
    }
}
