import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonArchive

/// Interop tier: our tar read back by GNU tar, bsdtar and Python's tarfile; their tars read by us.
@Suite("tar interop", .tags(.interop))
struct TarInteropTests {
    /// Parses `rwsr-xr-x` (the 9 characters after the type) into permission bits.
    static func modeBits(_ s: Substring) -> UInt32 {
        let c = Array(s)
        var m: UInt32 = 0
        let bits: [UInt32] = [0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001]
        for i in 0..<9 where c[i] != "-" && !(c[i] == "S" || c[i] == "T") { m |= bits[i] }
        if c[2] == "s" || c[2] == "S" { m |= 0o4000; if c[2] == "S" { m &= ~0o100 } }
        if c[5] == "s" || c[5] == "S" { m |= 0o2000; if c[5] == "S" { m &= ~0o010 } }
        if c[8] == "t" || c[8] == "T" { m |= 0o1000; if c[8] == "T" { m &= ~0o001 } }
        return m
    }

    /// `tar -tv --numeric-owner --quoting-style=literal` lines as `Listed`.
    static func gnuListing(_ archive: URL) throws -> [Listed] {
        let out = try Tool.run(["tar", "--numeric-owner", "--quoting-style=literal", "-tvf", archive.path]).stdoutString
        return out.split(separator: "\n").map { line -> Listed in
            // perms owner/group size-or-dev date time name[ -> target | link to target]
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            let perms = fields[0]
            let owners = fields[1].split(separator: "/")
            var rest = String(fields[5])
            var link: String?
            var type = perms.first!
            if type == "l", let r = rest.range(of: " -> ") { link = String(rest[r.upperBound...]); rest = String(rest[..<r.lowerBound]) }
            if type == "h", let r = rest.range(of: " link to ") { link = String(rest[r.upperBound...]); rest = String(rest[..<r.lowerBound]) }
            if type == "-", rest.contains(" link to ") { type = "h" }
            if rest.hasSuffix("/") { rest.removeLast() }
            return Listed(
                path: rest, type: type, mode: modeBits(perms.dropFirst()), uid: UInt32(owners[0])!,
                gid: UInt32(owners[1])!, link: link)
        }.sorted { $0.path < $1.path }
    }

    @Test("GNU tar lists our tar with the same names, types, modes, numeric owners and links")
    func gnuTarListing() throws {
        let dir = try Scratch("tar-list")
        defer { dir.cleanup() }
        let tree = try SampleTrees.rich()
        let archive = dir.path("rich.tar")
        try TarArchive.write(tree, to: archive, options: .init(compression: .none))
        #expect(try Self.gnuListing(archive) == tree.listed(asArchived: true))
        // The first name of the hard-link group in name order carries the content.
        #expect(tree.listed(asArchived: true).first { $0.path == "data/z-target" }?.link == "data/a-link")
    }

    @Test("GNU tar extracts our tar (xattrs, owners, devices, hard links) into the same tree")
    func gnuTarExtract() throws {
        let dir = try Scratch("tar-gnu")
        defer { dir.cleanup() }
        let tree = try SampleTrees.rich()
        let archive = dir.path("rich.tar.gz")
        try TarArchive.write(tree, to: archive)
        let out = dir.path("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Tool.run([
            "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--same-permissions", "--same-owner",
            "-xzf", archive.path, "-C", out.path,
        ])
        try expectSameTree(extracted: out, expected: tree, checkDevices: true)
    }

    @Test("bsdtar extracts our tar into the same tree")
    func bsdtarExtract() throws {
        let dir = try Scratch("tar-bsd")
        defer { dir.cleanup() }
        let tree = try SampleTrees.rich()
        let archive = dir.path("rich.tar")
        try TarArchive.write(tree, to: archive, options: .init(compression: .none))
        let out = dir.path("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Tool.run(["bsdtar", "--numeric-owner", "--xattrs", "-xpf", archive.path, "-C", out.path])
        try expectSameTree(extracted: out, expected: tree, checkDevices: true)
        // bsdtar's listing names every member too, hard link after its target.
        let names = try Tool.run(["bsdtar", "-tf", archive.path]).stdoutString.split(separator: "\n").map(String.init)
        #expect(Set(names.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) == Set(tree.listed().map(\.path)))
        let content = try #require(names.firstIndex(of: "data/a-link"))
        let link = try #require(names.firstIndex(of: "data/z-target"))
        #expect(content < link)
        let verbose = try Tool.run(["bsdtar", "-tvf", archive.path]).stdoutString
        #expect(verbose.contains("data/z-target link to data/a-link"))
    }

    @Test("Python's tarfile reads our PAX records: long names, big uids, binary xattrs")
    func pythonTarfile() throws {
        let dir = try Scratch("tar-py")
        defer { dir.cleanup() }
        let tree = try SampleTrees.rich()
        let archive = dir.path("rich.tar")
        try TarArchive.write(tree, to: archive, options: .init(compression: .none))
        let script = """
            import sys, tarfile
            with tarfile.open(sys.argv[1]) as t:
                for m in t.getmembers():
                    xs = sorted((k[len('SCHILY.xattr.'):], v.encode('utf-8', 'surrogateescape').hex()) for k, v in m.pax_headers.items() if k.startswith('SCHILY.xattr.'))
                    print(m.name, m.uid, m.gid, oct(m.mode), ','.join(k + '=' + v for k, v in xs))
            """
        let out = try Tool.run(["python3", "-c", script, archive.path]).stdoutString
        let lines = Dictionary(
            uniqueKeysWithValues: out.split(separator: "\n").map { line -> (String, [Substring]) in
                let f = line.split(separator: " ", omittingEmptySubsequences: false)
                return (String(f[0]), Array(f.dropFirst()))
            })
        for e in tree.walk() where !e.path.isEmpty {
            let fields = try #require(lines[e.path], "python did not list \(e.path)")
            #expect(fields[0] == "\(e.uid)" && fields[1] == "\(e.gid)", "\(e.path)")
            #expect(fields[2] == "0o" + String(e.mode, radix: 8), "\(e.path)")
            let xattrs = e.xattrs.sorted { $0.key < $1.key }.map { "\($0.key)=" + $0.value.map { String(format: "%02x", $0) }.joined() }
            #expect(String(fields[3]) == xattrs.joined(separator: ","), "\(e.path)")
        }
    }

    @Test(
        "We read what GNU tar and bsdtar write",
        arguments: [
            "tar --format=gnu", "tar --format=pax", "tar --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f",
            "bsdtar --format=pax", "bsdtar --format=gnutar", "bsdtar --format=ustar-short",
        ])
    func readForeign(_ writer: String) throws {
        let dir = try Scratch("tar-foreign")
        defer { dir.cleanup() }
        // ustar cannot hold the >256-byte name or the big uid: it gets the tree without them.
        let ustar = writer.hasSuffix("ustar-short")
        var tree = try SampleTrees.rich(devices: true)
        if ustar {
            for e in tree.walk() where e.path.utf8.count > 200 || e.uid > 2_097_151 { tree.remove(e.path) }
            tree.remove("links/far")
            tree.remove("v")
        }
        let src = dir.path("src")
        try tree.materialize(into: src, options: .init(applyOwnership: true, createDevices: true, applyXattrs: true))
        let archive = dir.path("foreign.tar")
        let tool = writer.split(separator: " ")[0]
        let format = writer.hasSuffix("ustar-short") ? "--format=ustar" : String(writer.split(separator: " ", maxSplits: 1)[1])
        let xattrFlags = tool == "tar" ? "--xattrs --xattrs-include='*'" : (ustar ? "" : "--xattrs")
        try Tool.shell("\(tool) \(format) \(xattrFlags) --numeric-owner -C '\(src.path)' -cf '\(archive.path)' .")
        let read = try FileTree(tarball: archive)
        let onDisk = try FileTree(directory: src)
        #expect(read.listed(includeRoot: true) == onDisk.listed(includeRoot: true))
        for e in onDisk.walk() {
            let r = try #require(read[e.path], "\(e.path) missing")
            if case .regular = e.kind, case let .regular(c) = r.kind, case let .regular(d) = e.kind {
                #expect(try c.data() == d.data(), "content of \(e.path)")
            }
            // bsdtar keeps xattrs only in pax; GNU tar writes its SCHILY records in any format.
            if !ustar && writer != "bsdtar --format=gnutar" { #expect(r.xattrs == e.xattrs, "xattrs of \(e.path)") }
            if case .symlink = e.kind {} else { #expect(r.mtime == e.mtime, "mtime of \(e.path)") }
        }
    }

    @Test("We read .tar.gz, .tar.zst and .tar.xz made by the standard tools", arguments: ["gzip -6", "pigz", "zstd -q", "xz -T1"])
    func readCompressed(_ compressor: String) throws {
        let dir = try Scratch("tar-comp")
        defer { dir.cleanup() }
        let tree = try SampleTrees.rich(devices: false)
        let plain = dir.path("plain.tar")
        try TarArchive.write(tree, to: plain, options: .init(compression: .none))
        let packed = dir.path("packed")
        try Tool.shell("\(compressor) -c < '\(plain.path)' > '\(packed.path)'")
        for spool in [nil, dir.path("spool")] {
            let read = try FileTree(tarball: packed, options: .init(spoolDirectory: spool))
            #expect(read.listed() == tree.listed(asArchived: true))
            let blob = try #require(read["usr/lib/blob.bin"])
            guard case let .regular(content) = blob.kind else { Issue.record("blob is not a file"); return }
            #expect(try content.data() == pseudoRandomBytes(300_000, seed: 7))
        }
    }

    @Test("Same tree, same bytes: tar, tar.gz and tar.zst are reproducible across thread counts")
    func reproducible() throws {
        let dir = try Scratch("tar-repro")
        defer { dir.cleanup() }
        let tree = try SampleTrees.rich()
        for compression in [ArchiveCompression.none, .gzip, .zstd] {
            var digests: Set<String> = []
            for threads in [1, 2, 5] {
                let out = dir.path("t\(threads).\(compression.rawValue)")
                try TarArchive.write(tree, to: out, options: .init(compression: compression, threads: threads))
                digests.insert(try SHA256Hex.file(out).hex)
            }
            #expect(digests.count == 1, "\(compression) differs between thread counts")
        }
    }

    /// Compares an extracted directory with the tree that was archived.
    func expectSameTree(extracted: URL, expected: FileTree, checkDevices: Bool) throws {
        let onDisk = try FileTree(directory: extracted)
        // The directory loader makes the first name of an inode the file and later ones links.
        func flatten(_ l: [Listed]) -> [Listed] {
            l.map {
                var x = $0; if x.type == "h" { x.type = "-"; x.link = nil }; return x
            }
        }
        #expect(flatten(onDisk.listed()) == flatten(expected.listed()))
        var st1 = stat(), st2 = stat()
        #expect(lstat(extracted.appendingPathComponent("data/a-link").path, &st1) == 0)
        #expect(lstat(extracted.appendingPathComponent("data/z-target").path, &st2) == 0)
        #expect(st1.st_ino == st2.st_ino, "hard link not restored as a hard link")
        for e in expected.walk() where !e.path.isEmpty {
            let got = try #require(onDisk[e.path])
            switch e.kind {
            case let .regular(c):
                let url = extracted.appendingPathComponent(e.path)
                #expect(try Data(contentsOf: url) == c.data(), "content of \(e.path)")
                #expect(got.mtime == e.mtime, "mtime of \(e.path)")
            case .directory, .fifo:
                #expect(got.mtime == e.mtime, "mtime of \(e.path)")
            case .characterDevice, .blockDevice:
                if checkDevices { #expect(got.kind == e.kind, "device numbers of \(e.path)") }
            default: break
            }
            #expect(got.xattrs == e.xattrs, "xattrs of \(e.path)")
        }
    }
}
