import FoundationEssentials
import UnisonCore

/// A fixed-size block of bytes that on-disk structures are encoded into, field by field, at
/// their documented offsets and in the byte order their specification names. Nothing is ever
/// copied from a Swift struct's memory layout.
package struct BinaryRecord: Sendable, Equatable {
    package private(set) var bytes: [UInt8]

    package init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var count: Int { bytes.count }
    package var data: Data { Data(bytes) }

    package mutating func le16(_ value: UInt16, at offset: Int) { put(value.littleEndian, at: offset) }
    package mutating func le32(_ value: UInt32, at offset: Int) { put(value.littleEndian, at: offset) }
    package mutating func le64(_ value: UInt64, at offset: Int) { put(value.littleEndian, at: offset) }
    package mutating func be16(_ value: UInt16, at offset: Int) { put(value.bigEndian, at: offset) }
    package mutating func be32(_ value: UInt32, at offset: Int) { put(value.bigEndian, at: offset) }
    package mutating func be64(_ value: UInt64, at offset: Int) { put(value.bigEndian, at: offset) }
    package mutating func u8(_ value: UInt8, at offset: Int) { bytes[offset] = value }

    package mutating func put<S: Sequence>(_ sequence: S, at offset: Int) where S.Element == UInt8 {
        var i = offset
        for b in sequence { bytes[i] = b; i += 1 }
    }

    /// ASCII text, padded with `pad` up to `width` bytes (truncated beyond it).
    package mutating func ascii(_ text: String, at offset: Int, width: Int, pad: UInt8 = 0) {
        let utf8 = Array(text.utf8.prefix(width))
        put(utf8 + [UInt8](repeating: pad, count: width - utf8.count), at: offset)
    }

    private mutating func put<T: FixedWidthInteger>(_ raw: T, at offset: Int) {
        withUnsafeBytes(of: raw) { src in
            for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = src[i] }
        }
    }
}

/// Reading fields back at fixed offsets (for inspection and tests).
package struct BinaryView: Sendable {
    package let bytes: [UInt8]
    package init(_ bytes: [UInt8]) { self.bytes = bytes }
    package init(_ data: Data) { self.bytes = [UInt8](data) }

    package var count: Int { bytes.count }

    package func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    package func le16(_ offset: Int) -> UInt16 { UInt16(value(offset, 2, bigEndian: false)) }
    package func le32(_ offset: Int) -> UInt32 { UInt32(value(offset, 4, bigEndian: false)) }
    package func le64(_ offset: Int) -> UInt64 { value(offset, 8, bigEndian: false) }
    package func be16(_ offset: Int) -> UInt16 { UInt16(value(offset, 2, bigEndian: true)) }
    package func be32(_ offset: Int) -> UInt32 { UInt32(value(offset, 4, bigEndian: true)) }
    package func be64(_ offset: Int) -> UInt64 { value(offset, 8, bigEndian: true) }
    package func slice(_ offset: Int, _ length: Int) -> [UInt8] { Array(bytes[offset..<(offset + length)]) }

    /// ASCII up to the first NUL, with trailing spaces removed.
    package func ascii(_ offset: Int, _ length: Int) -> String {
        let raw = slice(offset, length).prefix { $0 != 0 }
        return String(decoding: raw, as: UTF8.self).trimming(.whitespaces)
    }

    private func value(_ offset: Int, _ width: Int, bigEndian: Bool) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width {
            let b = UInt64(bytes[offset + (bigEndian ? i : width - 1 - i)])
            v = (v << 8) | b
        }
        return v
    }
}
