import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// How reading one file of the install went, for a bundle that says what it could not read.
enum DiagFileRead: Equatable {
    case text(String)
    case missing
    /// Present but not readable by this user (diag run as non-root), or another I/O error.
    case unreadable(String)
    /// A symbolic link: never followed, so nothing outside the collected tree comes in.
    case symlink(target: String)
    case notRegular

    /// A sentence for `install/not-collected.txt`, nil when the file was read.
    func note(_ path: String) -> String? {
        switch self {
        case .text: return nil
        case .missing: return "\(path) does not exist"
        case let .unreadable(reason): return "\(path) exists but could not be read: \(reason)"
        case let .symlink(target): return "\(path) is a symbolic link to \(target); not followed"
        case .notRegular: return "\(path) is not a regular file; not read"
        }
    }
}

extension DiagCollectors {
    /// Reads `path` (inside the control's root) without following a symlink at its last
    /// component, and only when its real location is inside the root; at most `limit` bytes.
    static func readFile(root: URL, hostPath: String, limit: Int = 16 << 20) -> DiagFileRead {
        let fd = open(hostPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: return .missing
            case ELOOP:
                var buffer = [CChar](repeating: 0, count: 4096)
                let n = readlink(hostPath, &buffer, buffer.count - 1)
                return .symlink(target: n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?")
            case EACCES, EPERM: return .unreadable("permission denied (run unisonctl diag as root to include it)")
            default: return .unreadable(String(cString: strerror(code)))
            }
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .notRegular }
        // A directory on the way may itself be a link out of a staged root: the file's real
        // place must be inside the root.
        if root.path != "/" {
            guard let real = realpath(hostPath, nil), let realRoot = realpath(root.path, nil) else { return .unreadable("cannot resolve") }
            defer { free(real); free(realRoot) }
            let r = String(cString: real), base = String(cString: realRoot)
            guard r.hasPrefix(base.hasSuffix("/") ? base : base + "/") else { return .symlink(target: r) }
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while data.count < limit {
            let n = Glibc.read(fd, &buffer, min(buffer.count, limit - data.count))
            if n < 0 {
                if errno == EINTR { continue }
                return .unreadable(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return .text(String(decoding: data, as: UTF8.self))
    }

    func readFile(_ path: String) -> DiagFileRead {
        Self.readFile(root: control.root, hostPath: control.hostPath(path))
    }
}
