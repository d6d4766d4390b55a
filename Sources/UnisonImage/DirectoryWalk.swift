import FoundationEssentials

/// The walk FileManager's enumerator made, which FoundationEssentials does not have (full
/// Foundation links CoreFoundation and ICU; docs/performance.md): every entry under a directory,
/// depth first, symlinks listed but not followed, unreadable directories skipped.
enum DirectoryWalk {
    struct Entry: Equatable {
        /// Relative to the walked directory, "/"-separated.
        var path: String
        /// A real directory (a symlink to one is not).
        var isDirectory: Bool
    }

    static func entries(under root: String) -> [Entry] {
        let fm = FileManager.default
        var out: [Entry] = []
        func walk(_ relative: String) {
            let directory = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
            for name in names.sorted() {
                let path = relative.isEmpty ? name : relative + "/" + name
                let type = (try? fm.attributesOfItem(atPath: root + "/" + path))?[.type] as? FileAttributeType
                let isDirectory = type == .typeDirectory
                out.append(Entry(path: path, isDirectory: isDirectory))
                if isDirectory { walk(path) }
            }
        }
        walk("")
        return out
    }
}
