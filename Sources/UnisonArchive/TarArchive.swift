import FoundationEssentials
import UnisonCore

/// Whole-archive operations: a tree to a (compressed) tarball on disk, written atomically.
package enum TarArchive {
    package struct WriteOptions: Sendable, Equatable {
        package var tar: TarWriteOptions
        package var compression: ArchiveCompression
        /// gzip 1...9 (default 6, as gzip), zstd 1...19 (default 3, as zstd).
        package var level: Int32?
        /// Compression threads; the active cores by default.
        package var threads: Int

        package init(
            tar: TarWriteOptions = TarWriteOptions(), compression: ArchiveCompression = .gzip, level: Int32? = nil,
            threads: Int = ProcessInfo.processInfo.activeProcessorCount
        ) {
            self.tar = tar
            self.compression = compression
            self.level = level
            self.threads = threads
        }
    }

    /// The sink chain for `compression` in front of `file`.
    package static func sink(
        for compression: ArchiveCompression, level: Int32? = nil, threads: Int,
        into file: ByteSink
    ) throws -> ByteSink {
        switch compression {
        case .none: return file
        case .gzip: return ParallelGzipSink(file, level: level ?? 6, threads: threads)
        case .zstd: return try ZstdSink(file, level: level ?? 3, workers: threads)
        case .xz: throw CompressionError.notWritable(format: "xz")
        }
    }

    /// Writes `tree` to `destination` through a temporary file renamed into place, so an
    /// interrupted or failed write leaves nothing at `destination`. `progress` receives the
    /// content bytes written so far.
    package static func write(
        _ tree: FileTree, to destination: URL, options: WriteOptions = WriteOptions(),
        progress: ((Int64) -> Void)? = nil
    ) throws {
        try AtomicFile.write(to: destination, permissions: 0o644) { tmp in
            let file = try FileSink(tmp)
            let sink = try sink(for: options.compression, level: options.level, threads: options.threads, into: file)
            try tree.writeTar(to: sink, options: options.tar, progress: progress)
        }
    }

    /// Reads a tarball and writes its tree below `directory` (which must be empty or absent).
    /// The whole archive is checked first: a hostile member fails the call before anything is
    /// created, and nothing is ever written outside `directory`.
    package static func extract(
        _ archive: URL, into directory: URL, read: TarReadOptions = TarReadOptions(),
        materialize: MaterializeOptions = MaterializeOptions()
    ) throws {
        let tree = try FileTree(tarball: archive, options: read)
        try tree.materialize(into: directory, options: materialize)
    }
}
