import FoundationEssentials
import Glibc
import UnisonArchive
import UnisonCore
import UnisonDisk

/// A release ISO cut into parts a GitHub release accepts (each asset must stay under 2 GiB),
/// named as unison-platform's release workflow checks them: `<iso>.part00`, `.part01`, …
/// beside `<iso>.REASSEMBLE.txt`, which says how to join and check them.
package struct ISOReleaseParts: Sendable, Codable, Equatable {
    package var schema = "unisonctl.iso-release-parts/v1"
    package var iso: String
    package var size: Int64
    package var sha256: String
    package var parts: [ISOPayloadPart]
    /// The reassemble text's file name; nil when the ISO was small enough to stay whole.
    package var reassemble: String?

    /// GitHub's limit is 2 GiB per asset; the release workflow checks each part is below
    /// 2147483648 bytes. Parts are 1 MiB under it.
    package static let defaultPartSize: Int64 = (2 << 30) - (1 << 20)

    /// Splits `iso` in place when it is larger than `partSize`: the parts and the reassemble
    /// text are written under temporary names and renamed into place, then the ISO is removed
    /// (unless `keepISO`). A smaller ISO is left as it is.
    package static func split(_ iso: URL, partSize: Int64 = defaultPartSize, keepISO: Bool = false) throws -> ISOReleaseParts {
        guard partSize >= 1 << 20, partSize < 2 << 30 else { throw ISOError.badSplitSize(partSize) }
        let (hex, size) = try SHA256Hex.file(iso)
        let name = iso.lastPathComponent
        guard size > partSize else {
            return ISOReleaseParts(iso: name, size: size, sha256: hex, parts: [ISOPayloadPart(name: name, size: size, sha256: hex)], reassemble: nil)
        }
        let directory = iso.deletingLastPathComponent()
        let staging = directory.appendingPathComponent(".\(name).split-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }

        let sink = SplitFileSink(directory: staging, baseName: name, limit: partSize, keepSinglePart: true) {
            "\($0).part\(NumberText.decimal($1, width: 2))"
        }
        let input = try FileSource(iso)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        try sink.finish()
        var parts: [ISOPayloadPart] = []
        for partName in sink.partNames {
            let (partHex, partSize) = try SHA256Hex.file(staging.appendingPathComponent(partName))
            parts.append(ISOPayloadPart(name: partName, size: partSize, sha256: partHex))
        }
        let result = ISOReleaseParts(iso: name, size: size, sha256: hex, parts: parts, reassemble: "\(name).REASSEMBLE.txt")
        try AtomicFile.write(Data(result.reassembleText.utf8), to: staging.appendingPathComponent(result.reassemble!))
        for file in sink.partNames + [result.reassemble!] {
            let from = staging.appendingPathComponent(file), to = directory.appendingPathComponent(file)
            if rename(from.path, to.path) != 0 { throw DiskError.io(path: to.path, operation: "rename", errno: errno) }
        }
        if !keepISO { try FileManager.default.removeItem(at: iso) }
        return result
    }

    /// The reassemble text: what to run on Linux/macOS and on Windows, and the checksums.
    package var reassembleText: String {
        var t = """
            \(iso) is published in \(parts.count) parts (a GitHub release asset must be under 2 GiB).
            Download every part into one directory, then join them in order and check the result.

            Linux or macOS:
              cat \(parts.map(\.name).joined(separator: " ")) > \(iso)
              echo "\(sha256)  \(iso)" | sha256sum -c -

            Windows (cmd.exe):
              copy /b \(parts.map(\.name).joined(separator: "+")) \(iso)
              certutil -hashfile \(iso) SHA256

            \(iso): \(size) bytes, sha256 \(sha256)

            Parts (sha256sum -c reads these lines):

            """
        for p in parts { t += "\(p.sha256)  \(p.name)\n" }
        return t
    }
}
