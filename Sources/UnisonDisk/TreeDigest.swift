import FoundationEssentials
import UnisonArchive
import UnisonCore

/// A SHA-256 over everything a `FileTree` records — each entry's path, kind, mode, owner,
/// time, xattrs, link target and the SHA-256 of its content — in walk order. Disk and
/// partition GUIDs, filesystem UUIDs and volume IDs are derived from it (plus the build's
/// parameters), so the same content gives the same identifiers and different content
/// different ones, with no randomness.
package enum TreeDigest {
    package static func digest(_ tree: FileTree) throws -> [UInt8] {
        var manifest = ""
        manifest.reserveCapacity(tree.count * 96)
        for e in tree.walk() {
            var line = "\(e.path)\u{0}\(String(e.mode, radix: 8)) \(e.uid) \(e.gid) \(e.mtime) "
            switch e.kind {
            case .directory: line += "d"
            case let .regular(content): line += "f \(content.size) \(try contentHash(content))"
            case let .symlink(target): line += "l \(target)"
            case let .hardlink(target): line += "h \(target)"
            case let .characterDevice(ma, mi): line += "c \(ma) \(mi)"
            case let .blockDevice(ma, mi): line += "b \(ma) \(mi)"
            case .fifo: line += "p"
            }
            for (name, value) in e.xattrs.sorted(by: { $0.key < $1.key }) {
                line += " x:\(name)=\(SHA256Hex.hex(value))"
            }
            manifest += line + "\n"
        }
        return hexBytes(SHA256Hex.hex(Data(manifest.utf8)))
    }

    static func contentHash(_ content: FileTree.Content) throws -> String {
        switch content {
        case let .bytes(d): return SHA256Hex.hex(d)
        case let .file(url): return try SHA256Hex.file(url).hex
        case .range: return SHA256Hex.hex(try content.data())
        }
    }

    /// A 32-bit identifier (FAT volume ID, VMDK CID) from a seed and a label.
    package static func derived32(from seed: [UInt8], label: String) -> UInt32 {
        let h = sha256(seed + [0] + Array(label.utf8))
        return UInt32(h[0]) << 24 | UInt32(h[1]) << 16 | UInt32(h[2]) << 8 | UInt32(h[3])
    }

    /// SHA-256 of a seed and parameters, for combining the tree digest with build inputs.
    package static func combine(_ seed: [UInt8], _ parts: [String]) -> [UInt8] {
        sha256(seed + Array(parts.joined(separator: "\u{0}").utf8))
    }
}
