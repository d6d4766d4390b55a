// The SSH wire encoding (RFC 4251 §5) that sshsig and OpenSSH key files are made of:
//
//   uint32   big-endian
//   string   uint32 length, then that many bytes
//
// The reader checks every length against what is left, so hostile input fails with an offset.
import FoundationEssentials
import UnisonCore

struct SSHWriter {
    private(set) var bytes = Data()

    mutating func uint32(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ data: some DataProtocol) {
        uint32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func string(_ text: String) { string(Data(text.utf8)) }

    mutating func raw(_ data: some DataProtocol) { bytes.append(contentsOf: data) }
}

struct SSHReader {
    struct Truncated: Error { var offset: Int; var wanted: Int }

    let data: Data
    private(set) var offset = 0

    init(_ data: Data) { self.data = Data(data) }

    var isAtEnd: Bool { offset == data.count }
    var remaining: Int { data.count - offset }

    mutating func raw(_ count: Int) throws -> Data {
        guard count >= 0, count <= remaining else { throw Truncated(offset: offset, wanted: count) }
        defer { offset += count }
        return data.subdata(in: offset..<(offset + count))
    }

    mutating func uint32() throws -> UInt32 {
        try raw(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func string() throws -> Data {
        let length = try uint32()
        guard length <= UInt32(remaining) else { throw Truncated(offset: offset - 4, wanted: Int(length)) }
        return try raw(Int(length))
    }

    mutating func text() throws -> String { String(decoding: try string(), as: UTF8.self) }
}

/// PEM-like armor (`-----BEGIN X-----`, base64 lines, `-----END X-----`).
enum Armor {
    static func wrap(_ data: Data, label: String, width: Int) -> String {
        let b64 = data.base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var index = b64.startIndex
        while index < b64.endIndex {
            let end = b64.index(index, offsetBy: width, limitedBy: b64.endIndex) ?? b64.endIndex
            lines.append(String(b64[index..<end]))
            index = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The bytes between the BEGIN and END lines of `label`, nil when the armor is missing or
    /// the base64 is invalid.
    static func unwrap(_ text: String, label: String) -> Data? {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimming(.whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN \(label)-----"),
            let end = lines.firstIndex(of: "-----END \(label)-----"), end > begin
        else { return nil }
        return Data(base64Encoded: lines[(begin + 1)..<end].joined())
    }
}
