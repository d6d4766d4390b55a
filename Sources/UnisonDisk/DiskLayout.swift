import FoundationEssentials

/// What a virtual disk holds, as a sorted list of extents over an implicit sea of zeros:
/// GPT regions and FAT structures as bytes, file data and the ext4 image as ranges of files on
/// the build host. Every encoder (raw, qcow2, vmdk) streams the same layout in one pass, so
/// no raw intermediate image is ever written.
///
///     0      1 MiB                                                          size
///     | GPT  | ESP: boot sector, FATs, dirs, files | root: ext4 image ranges | GPT backup |
///       bytes  bytes ........ file ranges ........   file ranges (data only)   bytes
package struct DiskLayout: Sendable {
    package enum Source: Sendable, Equatable {
        case bytes(Data)
        /// `length` bytes at `offset` of a host file; bytes past its end read as zeros.
        case file(URL, offset: Int64, length: Int64)

        package var length: Int64 {
            switch self {
            case let .bytes(d): return Int64(d.count)
            case let .file(_, _, length): return length
            }
        }
    }

    package struct Extent: Sendable, Equatable {
        package var offset: Int64
        package var source: Source
        package var length: Int64 { source.length }
        package var end: Int64 { offset + length }

        package init(offset: Int64, source: Source) {
            self.offset = offset
            self.source = source
        }
    }

    /// Virtual disk size in bytes.
    package let size: Int64
    package private(set) var extents: [Extent] = []

    package init(size: Int64) { self.size = size }

    /// Adds an extent (kept sorted); zero-length extents are ignored.
    package mutating func add(_ source: Source, at offset: Int64) throws {
        guard source.length > 0 else { return }
        guard offset >= 0, offset + source.length <= size else {
            throw DiskError.extentOutOfBounds(offset: offset, length: source.length, diskSize: size)
        }
        let extent = Extent(offset: offset, source: source)
        // Insertion keeps the array sorted; layouts are built mostly in ascending order.
        var index = extents.count
        while index > 0, extents[index - 1].offset > offset { index -= 1 }
        if index > 0, extents[index - 1].end > offset {
            throw DiskError.overlappingExtents(offset: offset, previousEnd: extents[index - 1].end)
        }
        if index < extents.count, extent.end > extents[index].offset {
            throw DiskError.overlappingExtents(offset: extents[index].offset, previousEnd: extent.end)
        }
        extents.insert(extent, at: index)
    }

    /// Adds every extent of `other` (a partition's layout) shifted by `base`.
    package mutating func add(_ other: [Extent], at base: Int64) throws {
        for e in other { try add(e.source, at: base + e.offset) }
    }

    /// Bytes covered by extents (an upper bound of what an encoder reads).
    package var mappedBytes: Int64 { extents.reduce(0) { $0 + $1.length } }
}
