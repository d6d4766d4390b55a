import FoundationEssentials
import Glibc
import UnisonCrypto

/// SHA-256 helpers shared by checksums, OCI digests and model verification.
package enum SHA256Hex {
    package static func hex(_ data: some DataProtocol) -> String {
        NumberText.hex(bytes: SHA256.hash(data: data))
    }

    /// Hashes a file in 1 MiB reads; returns the hex digest and the byte count.
    package static func file(_ url: URL) throws -> (hex: String, size: Int64) {
        let handle = try FileIO(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (NumberText.hex(bytes: hasher.finalize()), size)
    }
}
