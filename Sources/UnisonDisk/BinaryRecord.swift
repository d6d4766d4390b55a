import Foundation

/// A fixed-size block of bytes that on-disk structures are encoded into, field by field, at
/// their documented offsets and in the byte order their specification names. Nothing is ever
/// copied from a Swift struct's memory layout.
public struct BinaryRecord: Sendable, Equatable {
    public private(set) var bytes: [UInt8]

    public init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var count: Int { bytes.count }
    public var data: Data { Data(bytes) }

    public mutating func le16(_ value: UInt16, at offset: Int) { put(value.littleEndian, at: offset) }
    public mutating func le32(_ value: UInt32, at offset: Int) { put(value.littleEndian, at: offset) }
    public mutating func le64(_ value: UInt64, at offset: Int) { put(value.littleEndian, at: offset) }
    public mutating func be16(_ value: UInt16, at offset: Int) { put(value.bigEndian, at: offset) }
    public mutating func be32(_ value: UInt32, at offset: Int) { put(value.bigEndian, at: offset) }
    public mutating func be64(_ value: UInt64, at offset: Int) { put(value.bigEndian, at: offset) }
    public mutating func u8(_ value: UInt8, at offset: Int) { bytes[offset] = value }

    public mutating func put<S: Sequence>(_ sequence: S, at offset: Int) where S.Element == UInt8 {
        var i = offset
        for b in sequence { bytes[i] = b; i += 1 }
    }

    /// ASCII text, padded with `pad` up to `width` bytes (truncated beyond it).
    public mutating func ascii(_ text: String, at offset: Int, width: Int, pad: UInt8 = 0) {
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
public struct BinaryView: Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ data: Data) { self.bytes = [UInt8](data) }

    public var count: Int { bytes.count }

    public func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    public func le16(_ offset: Int) -> UInt16 { UInt16(value(offset, 2, bigEndian: false)) }
    public func le32(_ offset: Int) -> UInt32 { UInt32(value(offset, 4, bigEndian: false)) }
    public func le64(_ offset: Int) -> UInt64 { value(offset, 8, bigEndian: false) }
    public func be16(_ offset: Int) -> UInt16 { UInt16(value(offset, 2, bigEndian: true)) }
    public func be32(_ offset: Int) -> UInt32 { UInt32(value(offset, 4, bigEndian: true)) }
    public func be64(_ offset: Int) -> UInt64 { value(offset, 8, bigEndian: true) }
    public func slice(_ offset: Int, _ length: Int) -> [UInt8] { Array(bytes[offset..<(offset + length)]) }

    /// ASCII up to the first NUL, with trailing spaces removed.
    public func ascii(_ offset: Int, _ length: Int) -> String {
        let raw = slice(offset, length).prefix { $0 != 0 }
        return String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespaces)
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
