import Foundation
import UnisonCore
import UnisonTestSupport

@testable import UnisonDisk

/// The shared scratch directory under its old name here (UnisonTestSupport's `Scratch`).
typealias DiskScratch = Scratch

enum Tool {
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
        try SystemProcessRunner().check(arguments, environment: environment)
    }

    static func status(_ arguments: [String]) throws -> ProcessResult {
        try SystemProcessRunner().run(arguments)
    }

    static func json(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: try run(arguments).stdout)
    }
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
struct TestBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func data(_ count: Int) -> Data {
        var out = Data(capacity: count)
        while out.count < count {
            var v = next()
            withUnsafeBytes(of: &v) { out.append(contentsOf: $0.prefix(count - out.count)) }
        }
        return out
    }
}

extension DiskLayout {
    /// The virtual disk bytes at `offset` as the layout defines them (for comparisons).
    func expectedBytes(at offset: Int64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        for e in extents where e.offset < offset + Int64(count) && e.end > offset {
            let from = max(offset, e.offset), to = min(offset + Int64(count), e.end)
            let bytes: [UInt8]
            switch e.source {
            case let .bytes(d): bytes = [UInt8](d[Int(from - e.offset)..<Int(to - e.offset)])
            case let .file(url, off, _):
                let h = try FileHandle(forReadingFrom: url)
                try h.seek(toOffset: UInt64(off + from - e.offset))
                var b = [UInt8](try h.read(upToCount: Int(to - from)) ?? Data())
                try h.close()
                b += [UInt8](repeating: 0, count: Int(to - from) - b.count)
                bytes = b
            }
            out.replaceSubrange(Int(from - offset)..<Int(to - offset), with: bytes)
        }
        return out
    }
}
