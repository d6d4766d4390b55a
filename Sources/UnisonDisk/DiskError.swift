import FoundationEssentials
import Glibc
import UnisonCore

/// Everything that can go wrong building or reading a disk, with the path, offset or size that
/// failed. The CLI prints `description` as one sentence.
package enum DiskError: Error, CustomStringConvertible, Sendable, Equatable, ExitCoded {
    /// Content does not fit: `what` needs `needed` bytes, `available` are there.
    case doesNotFit(what: String, needed: Int64, available: Int64)
    /// A size or offset that must be a multiple of `alignment`.
    case misaligned(what: String, value: Int64, alignment: Int64)
    /// Two extents of a layout claim the same bytes.
    case overlappingExtents(offset: Int64, previousEnd: Int64)
    /// An extent reaching past the end of the disk.
    case extentOutOfBounds(offset: Int64, length: Int64, diskSize: Int64)
    /// A system call on `path` failed.
    case io(path: String, operation: String, errno: Int32)
    /// A file that is not what it should be: bad magic, a table pointing past the end, …
    case corrupt(path: String, offset: Int64, detail: String)
    /// A valid file using a feature this reader does not implement.
    case unsupported(path: String, detail: String)
    /// A tree entry a filesystem cannot hold (a symlink on FAT, a name with a newline, …).
    case unsupportedEntry(path: String, filesystem: String, detail: String)
    /// A file of the boot files was not found in the tree or on the host.
    case missingBootFile(what: String, looked: [String])

    package var exitStatus: ExitStatus { .badInput }

    package var description: String {
        switch self {
        case let .doesNotFit(what, needed, available):
            return "\(what) needs \(needed) bytes (\(fmt(needed))) but only \(available) bytes (\(fmt(available))) are available"
        case let .misaligned(what, value, alignment):
            return "\(what) \(value) is not a multiple of \(alignment)"
        case let .overlappingExtents(offset, previousEnd):
            return "disk layout: an extent at offset \(offset) overlaps the previous one, which ends at \(previousEnd)"
        case let .extentOutOfBounds(offset, length, diskSize):
            return "disk layout: an extent of \(length) bytes at offset \(offset) ends past the disk size \(diskSize)"
        case let .io(path, operation, code):
            return "cannot \(operation) '\(path)': \(String(cString: strerror(code)))"
        case let .corrupt(path, offset, detail):
            return "\(path): at offset \(offset): \(detail)"
        case let .unsupported(path, detail):
            return "\(path): \(detail)"
        case let .unsupportedEntry(path, filesystem, detail):
            return "\(filesystem) cannot hold '\(path)': \(detail)"
        case let .missingBootFile(what, looked):
            return "no \(what) found (looked for \(looked.joined(separator: ", ")))"
        }
    }

    private func fmt(_ n: Int64) -> String { ProgressReporter.formatBytes(n) }
}
