import CZlib
import FoundationEssentials
import Glibc

/// CRC-32 (IEEE 802.3, the one GPT headers and entry arrays carry), computed by zlib.
package enum CRC32 {
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { update(0, UnsafeRawBufferPointer($0)) }
    }

    package static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { update(0, $0) }
    }

    /// Continues a running CRC over more bytes (start with 0).
    package static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return crc }
        var running = UInt(crc)
        var offset = 0
        while offset < buffer.count {
            let n = min(buffer.count - offset, Int(Int32.max))
            running = crc32(running, base.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: running)
    }
}

/// Fast all-zero test through libc, so that zero detection costs the same in debug builds:
/// the first byte is zero and every byte equals its successor.
enum ZeroCheck {
    static func isZero(_ buffer: UnsafeRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        guard base.load(as: UInt8.self) == 0 else { return false }
        return buffer.count == 1 || memcmp(base, base + 1, buffer.count - 1) == 0
    }
}
