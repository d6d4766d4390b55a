import FoundationEssentials
import Glibc

/// Problems reading a directory into a tree.
package enum DirectoryTreeError: Error, CustomStringConvertible, Sendable, Equatable {
    case notADirectory(String)
    case stat(path: String, errno: Int32)
    case readlink(path: String, errno: Int32)
    case listDirectory(path: String, errno: Int32)
    case unsupportedFileType(path: String)

    package var description: String {
        switch self {
        case let .notADirectory(p): return "'\(p)' is not a directory"
        case let .stat(p, e): return "cannot stat '\(p)': \(String(cString: strerror(e)))"
        case let .readlink(p, e): return "cannot read the symlink '\(p)': \(String(cString: strerror(e)))"
        case let .listDirectory(p, e): return "cannot list '\(p)': \(String(cString: strerror(e)))"
        case let .unsupportedFileType(p): return "'\(p)' is a socket or another file type an image cannot hold"
        }
    }
}

extension FileTree {
    /// A tree describing the directory `root`: every entry's type, mode, owner, mtime and
    /// extended attributes as they are on disk (symlinks are recorded, never followed). Files
    /// sharing an inode become hard links to the first of them in walk order. Contents are
    /// referenced, not copied: the files must stay until the tree is written.
    package init(directory root: URL) throws {
        self.init()
        var rootStat = stat()
        guard lstat(root.path, &rootStat) == 0 else { throw DirectoryTreeError.stat(path: root.path, errno: errno) }
        guard rootStat.st_mode & S_IFMT == S_IFDIR else { throw DirectoryTreeError.notADirectory(root.path) }
        try insert(
            Entry(
                path: "", kind: .directory, mode: UInt32(rootStat.st_mode) & 0o7777, uid: rootStat.st_uid,
                gid: rootStat.st_gid, mtime: Int64(rootStat.st_mtim.tv_sec), xattrs: Self.xattrs(of: root.path)))
        var inodes: [String: String] = [:]  // "dev:ino" -> first tree path
        try load(root, relative: "", inodes: &inodes)
    }

    private mutating func load(_ dir: URL, relative: String, inodes: inout [String: String]) throws {
        guard let handle = opendir(dir.path) else { throw DirectoryTreeError.listDirectory(path: dir.path, errno: errno) }
        var names: [String] = []
        while let ent = readdir(handle) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(handle)
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for name in names {
            let url = dir.appendingPathComponent(name)
            let path = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(url.path, &st) == 0 else { throw DirectoryTreeError.stat(path: url.path, errno: errno) }
            let mode = UInt32(st.st_mode) & 0o7777
            let kind: Kind
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let key = "\(st.st_dev):\(st.st_ino)"
                if st.st_nlink > 1, let first = inodes[key] {
                    kind = .hardlink(target: first)
                } else {
                    if st.st_nlink > 1 { inodes[key] = path }
                    kind = .regular(.file(url))
                }
            case S_IFDIR: kind = .directory
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(url.path, &buffer, buffer.count - 1)
                guard n >= 0 else { throw DirectoryTreeError.readlink(path: url.path, errno: errno) }
                kind = .symlink(target: String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            case S_IFCHR: kind = .characterDevice(major: Self.major(st.st_rdev), minor: Self.minor(st.st_rdev))
            case S_IFBLK: kind = .blockDevice(major: Self.major(st.st_rdev), minor: Self.minor(st.st_rdev))
            case S_IFIFO: kind = .fifo
            default: throw DirectoryTreeError.unsupportedFileType(path: url.path)
            }
            try insert(
                Entry(
                    path: path, kind: kind, mode: mode,
                    uid: st.st_uid, gid: st.st_gid, mtime: Int64(st.st_mtim.tv_sec), xattrs: Self.xattrs(of: url.path)))
            if case .directory = kind { try load(url, relative: path, inodes: &inodes) }
        }
    }

    /// glibc's dev_t encoding (gnu_dev_major/minor).
    static func major(_ dev: dev_t) -> UInt32 {
        UInt32(truncatingIfNeeded: ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff))
    }

    static func minor(_ dev: dev_t) -> UInt32 {
        UInt32(truncatingIfNeeded: (dev & 0xff) | ((dev >> 12) & ~0xff))
    }

    /// Extended attributes of a path, not following symlinks; empty where unsupported.
    static func xattrs(of path: String) -> [String: Data] {
        let size = XattrCalls.list(path, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let n = XattrCalls.list(path, &names, size)
        guard n > 0 else { return [:] }
        var out: [String: Data] = [:]
        for raw in names[0..<n].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let length = XattrCalls.get(path, name, nil, 0)
            guard length >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: max(1, length))
            let got = XattrCalls.get(path, name, &value, length)
            guard got >= 0 else { continue }
            out[name] = Data(value[0..<got])
        }
        return out
    }
}

/// glibc's l*xattr calls, looked up at run time: Swift's Glibc module does not import
/// <sys/xattr.h>, and the functions are plain C symbols of libc.
enum XattrCalls {
    typealias ListFn = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias GetFn = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    typealias SetFn = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

    private static func symbol<T>(_ name: String, as: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, name) else { return nil }
        return unsafeBitCast(sym, to: T.self)
    }

    private static let listFn = symbol("llistxattr", as: ListFn.self)
    private static let getFn = symbol("lgetxattr", as: GetFn.self)
    private static let setFn = symbol("lsetxattr", as: SetFn.self)

    static func list(_ path: String, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        guard let listFn else { return -1 }
        return listFn(path, buffer, size)
    }

    static func get(_ path: String, _ name: String, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        guard let getFn else { return -1 }
        return getFn(path, name, value, size)
    }

    /// Returns 0 on success, -1 with errno set otherwise.
    static func set(_ path: String, _ name: String, _ value: Data) -> Int32 {
        guard let setFn else { errno = ENOTSUP; return -1 }
        return value.withUnsafeBytes { setFn(path, name, $0.baseAddress, $0.count, 0) }
    }
}
