/// A size written in the spec as `4GB`, `512MiB`, `20 GB` or a plain byte count.
/// SI suffixes (kB, MB, GB, TB) are powers of 1000; IEC ones (KiB, MiB, GiB, TiB) powers of 1024.
package struct ByteSize: Sendable, Hashable, Comparable, StringCodable {
    package var bytes: Int64
    /// The text it was written as, kept for printing back.
    package var text: String

    package init(bytes: Int64) {
        self.bytes = bytes
        self.text = String(bytes)
    }

    package init?(_ raw: String) {
        let s = raw.replacing(" ", with: "")
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        let unit = s.dropFirst(digits.count).lowercased()
        let multipliers: [String: Int64] = [
            "": 1, "b": 1,
            "k": 1000, "kb": 1000, "m": 1_000_000, "mb": 1_000_000, "g": 1_000_000_000, "gb": 1_000_000_000,
            "t": 1_000_000_000_000, "tb": 1_000_000_000_000,
            "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
        ]
        guard let m = multipliers[unit] else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: m)
        guard !overflow else { return nil }
        bytes = product
        text = raw
    }

    package var description: String { text }
    package static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self) { self.init(bytes: n); return }
        self = try Self.decodeText(try c.decode(String.self), codingPath: decoder.codingPath)
    }

    package static let expectedText = "a size"
}
