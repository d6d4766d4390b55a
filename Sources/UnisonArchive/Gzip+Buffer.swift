// One gzip member for a buffer held in memory (RFC 1952), deflated by libdeflate in one call.
// For readers that stop at the end of the first member or choke on a member boundary: the
// kernel's initramfs unpacker reports "junk at the end of compressed archive" when a member
// ends inside a cpio entry, so an initramfs must be a single member. Larger streams go through
// ParallelGzipSink, whose members every gzip tool reads as one stream.
//
// Reproducible: libdeflate writes MTIME 0, no name and a fixed OS byte; the deflate output is a
// function of the input and the level.
import CLibdeflate
import FoundationEssentials

package enum GzipBuffer {
    /// `data` as a single gzip member at libdeflate `level` (1...12).
    package static func compress(_ data: Data, level: Int32 = 9) throws -> Data {
        guard let compressor = libdeflate_alloc_compressor(max(1, min(12, level))) else {
            throw CompressionError.codec(format: "gzip", detail: "libdeflate could not allocate a compressor")
        }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_gzip_compress_bound(compressor, data.count)
        var out = Data(count: bound)
        let written = data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                libdeflate_gzip_compress(
                    compressor, src.baseAddress ?? UnsafeRawPointer(dst.baseAddress!), data.count,
                    dst.baseAddress!, bound)
            }
        }
        guard written > 0 else {
            throw CompressionError.codec(format: "gzip", detail: "libdeflate_gzip_compress found no room in \(bound) bytes")
        }
        out.count = written
        return out
    }
}
