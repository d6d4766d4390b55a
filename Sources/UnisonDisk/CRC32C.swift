/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) in the form ext4's `metadata_csum`
/// uses it (kernel Documentation/filesystems/ext4/checksums.rst): the running value is passed in
/// and returned as is, with no final inversion (Linux's `crc32c()`), and the chain starts from
/// ~0. Slicing-by-8 over tables built once.
enum CRC32C {
    private static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
        }
        return t
    }()
    private static let flat: [UInt32] = tables.flatMap { $0 }

    /// Continues `crc` over `buffer` (Linux `crc32c(crc, buffer, length)`).
    static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var c = crc
        let count = buffer.count
        guard count > 0, let base = buffer.baseAddress else { return c }
        flat.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= count {
                let lo =
                    c
                    ^ (UInt32(base.load(fromByteOffset: i, as: UInt8.self))
                        | UInt32(base.load(fromByteOffset: i + 1, as: UInt8.self)) << 8
                        | UInt32(base.load(fromByteOffset: i + 2, as: UInt8.self)) << 16
                        | UInt32(base.load(fromByteOffset: i + 3, as: UInt8.self)) << 24)
                let b4 = Int(base.load(fromByteOffset: i + 4, as: UInt8.self))
                let b5 = Int(base.load(fromByteOffset: i + 5, as: UInt8.self))
                let b6 = Int(base.load(fromByteOffset: i + 6, as: UInt8.self))
                let b7 = Int(base.load(fromByteOffset: i + 7, as: UInt8.self))
                c =
                    t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + b4] ^ t[2 * 256 + b5] ^ t[1 * 256 + b6] ^ t[b7]
                i += 8
            }
            while i < count {
                c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }

    static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    static func update(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    static func update(_ crc: UInt32, le32 value: UInt32) -> UInt32 {
        withUnsafeBytes(of: value.littleEndian) { update(crc, $0) }
    }

    /// The standard CRC-32C of `bytes` (initial ~0, final inversion): "123456789" -> 0xE3069283.
    static func checksum(_ bytes: [UInt8]) -> UInt32 { ~update(~0, bytes) }
}
