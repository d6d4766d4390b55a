// PAX extended header records (IEEE Std 1003.1-2017, pax, "pax Extended Header"):
//
//   "<length> <keyword>=<value>\n"
//
// `length` is the decimal byte count of the whole record, its own digits included; values are
// UTF-8 text except SCHILY.xattr.* values, which GNU tar and bsdtar store as raw bytes (the
// length prefix makes any byte safe).
import FoundationEssentials

enum PAX {
    /// One record with its self-inclusive length prefix.
    static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = Array(key.utf8).count + value.count + 3  // ' ', '=', '\n'
        var length = body + 1
        while String(length).utf8.count + body != length { length = String(length).utf8.count + body }
        return Array("\(length) \(key)=".utf8) + value + [UInt8(ascii: "\n")]
    }

    static func record(_ key: String, _ value: String) -> [UInt8] { record(key, Array(value.utf8)) }

    enum ParseError: Error, Equatable {
        case malformed(offset: Int)
    }

    /// Parses records in order; later records with the same key win, as the standard says.
    static func parse(_ data: [UInt8]) throws -> [(key: String, value: [UInt8])] {
        var out: [(String, [UInt8])] = []
        var i = 0
        while i < data.count {
            // Trailing NUL padding (some writers pad the header body).
            if data[i] == 0 { break }
            var j = i
            var length = 0
            while j < data.count, data[j] >= UInt8(ascii: "0"), data[j] <= UInt8(ascii: "9") {
                length = length * 10 + Int(data[j] - UInt8(ascii: "0"))
                guard length < 1 << 30 else { throw ParseError.malformed(offset: i) }
                j += 1
            }
            guard j > i, j < data.count, data[j] == UInt8(ascii: " "), length > j - i + 1,
                i + length <= data.count, data[i + length - 1] == UInt8(ascii: "\n")
            else { throw ParseError.malformed(offset: i) }
            let record = data[(j + 1)..<(i + length - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { throw ParseError.malformed(offset: i) }
            let key = String(decoding: record[record.startIndex..<eq], as: UTF8.self)
            out.append((key, Array(record[(eq + 1)...])))
            i += length
        }
        return out
    }
}
