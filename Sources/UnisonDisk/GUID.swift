import FoundationEssentials
import UnisonCore

/// A GUID as GPT stores it (UEFI specification 2.10, appendix A "GUID and Time Formats").
///
/// The text form `C12A7328-F81F-11D2-BA4B-00A0C93EC93B` is five groups; on disk the first
/// three groups are little-endian and the last two are stored byte for byte:
///
///     text:   C12A7328 - F81F - 11D2 - BA4B - 00A0C93EC93B
///     disk:   28 73 2A C1  1F F8  D2 11  BA 4B  00 A0 C9 3E C9 3B
///
/// `bytes` holds the text order (RFC 9562 big-endian), `diskBytes` the mixed-endian order.
package struct GUID: Sendable, Hashable, StringCodable {
    /// The sixteen bytes in text order.
    package let bytes: [UInt8]

    package init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "a GUID has 16 bytes")
        self.bytes = bytes
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case).
    package init?(_ text: String) {
        let hex = text.replacing("-", with: "")
        let groups = text.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], hex.count == 32 else { return nil }
        var out: [UInt8] = []
        var index = hex.startIndex
        for _ in 0..<16 {
            let next = hex.index(index, offsetBy: 2)
            guard let b = UInt8(hex[index..<next], radix: 16) else { return nil }
            out.append(b)
            index = next
        }
        self.init(bytes: out)
    }

    /// Decodes the mixed-endian on-disk form.
    package init(diskBytes d: [UInt8]) {
        precondition(d.count == 16)
        self.init(bytes: [d[3], d[2], d[1], d[0], d[5], d[4], d[7], d[6]] + Array(d[8..<16]))
    }

    /// The mixed-endian on-disk form.
    package var diskBytes: [UInt8] {
        let b = bytes
        return [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]] + Array(b[8..<16])
    }

    /// Upper-case text form, as UEFI and `sgdisk` print it.
    package var description: String { text(uppercase: true) }

    package func text(uppercase: Bool) -> String {
        let hex = bytes.map { NumberText.hex($0, width: 2, uppercase: uppercase) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    package var isZero: Bool { bytes.allSatisfy { $0 == 0 } }
    package static let zero = GUID(bytes: [UInt8](repeating: 0, count: 16))

    /// A name-based UUID from a content digest: the first 16 bytes of SHA-256(seed ‖ "\0" ‖ label)
    /// with the RFC 9562 version 8 ("custom") and variant bits set. Same content, same GUID; a
    /// different label gives an unrelated GUID from the same seed.
    package static func derived(from seed: [UInt8], label: String) -> GUID {
        var b = Array(sha256(seed + [0] + Array(label.utf8)).prefix(16))
        b[6] = (b[6] & 0x0F) | 0x80
        b[8] = (b[8] & 0x3F) | 0x80
        return GUID(bytes: b)
    }

    package static let expectedText = "a GUID"
}

/// SHA-256 through UnisonCore (the only hashing dependency this module has).
func sha256(_ bytes: [UInt8]) -> [UInt8] { hexBytes(SHA256Hex.hex(bytes)) }

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(hex.utf8.count / 2)
    var it = hex.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    while let hi = it.next(), let lo = it.next() { out.append(nibble(hi) << 4 | nibble(lo)) }
    return out
}
