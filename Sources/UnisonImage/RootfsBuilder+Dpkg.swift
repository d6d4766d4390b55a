// Editing a Debian package database inside a FileTree (dpkg's admindir, `var/lib/dpkg`):
//
//   var/lib/dpkg/status            deb822 paragraphs, one per package ("Package: name", …)
//   var/lib/dpkg/info/NAME.list    files the package installed (absolute paths), one per line
//   var/lib/dpkg/info/NAME.*       maintainer scripts, md5sums, … (NAME may carry ":arch")
//
// Used to take packages out of an image without running dpkg (builds are rootless and do not
// execute the image's binaries): their files are removed, then their status paragraph and
// info files, so `dpkg --audit` in the image stays clean.
import FoundationEssentials
import UnisonArchive
import UnisonCore

package enum DpkgDatabase {
    static let admin = "var/lib/dpkg"

    /// The names of installed packages matching a `*` pattern.
    package static func packages(in tree: FileTree, matching pattern: String) throws -> [String] {
        try paragraphs(tree).compactMap { field("Package", in: $0) }.filter { RootfsBuilder.glob(pattern, $0) }.sorted()
    }

    /// Removes packages and their files from the tree. Returns the names removed, and the
    /// names of remaining packages that declared a dependency on one of them.
    @discardableResult
    package static func purge(_ tree: inout FileTree, packagesMatching pattern: String) throws -> (removed: [String], dependents: [String]) {
        let names = try packages(in: tree, matching: pattern)
        guard !names.isEmpty else { return ([], []) }
        let info = admin + "/info"
        var directories: [String] = []
        for name in names {
            for suffix in ["", ":amd64", ":all"] {
                guard let list = tree[info + "/" + name + suffix + ".list"], case let .regular(content) = list.kind else { continue }
                for line in String(decoding: try content.data(), as: UTF8.self).split(separator: "\n") {
                    let listed = String(line)
                    guard listed != "/.", let path = tree.resolvingSymlinks(listed), !path.isEmpty, tree.contains(path) else { continue }
                    // A listed directory may be a symlink on disk (merged /usr: /lib -> usr/lib):
                    // it is kept, and its target considered for removal when empty.
                    if let target = tree.resolvingSymlinks(listed, followFinal: true), tree[target]?.isDirectory == true {
                        directories.append(target)
                    } else {
                        tree.remove(path)
                    }
                }
            }
            for file in tree.children(of: info).map(\.path) {
                let base = String(file.dropFirst(info.count + 1))
                if base.hasPrefix(name + ".") || base.hasPrefix(name + ":") { tree.remove(file) }
            }
        }
        // Directories the packages created, deepest first, when nothing else is left in them.
        for dir in Set(directories).sorted(by: { $0.count > $1.count }) where tree.children(of: dir).isEmpty {
            if !essentialDirectories.contains(dir) { tree.remove(dir) }
        }
        // The status file without their paragraphs.
        let removed = Set(names)
        var kept: [String] = []
        var dependents: [String] = []
        for p in try paragraphs(tree) {
            guard let name = field("Package", in: p) else { kept.append(p); continue }
            if removed.contains(name) { continue }
            let deps = ["Depends", "Pre-Depends"].compactMap { field($0, in: p) }.joined(separator: ",")
            let depNames = deps.split(whereSeparator: { ",|".contains($0) }).compactMap {
                $0.trimming(.whitespaces).split(separator: " ").first.map { String($0.split(separator: ":")[0]) }
            }
            if depNames.contains(where: removed.contains) { dependents.append(name) }
            kept.append(p)
        }
        let status = admin + "/status"
        try tree.update(status) { e in
            e.kind = .regular(.bytes(Data((kept.joined(separator: "\n\n") + "\n").utf8)))
        }
        return (names, dependents.sorted())
    }

    /// Paragraphs of the status file, each without its trailing blank line.
    static func paragraphs(_ tree: FileTree) throws -> [String] {
        guard let status = tree[admin + "/status"], case let .regular(content) = status.kind else { return [] }
        let text = String(decoding: try content.data(), as: UTF8.self)
        return text.components(separatedBy: "\n\n").map { $0.trimming(.newlines) }.filter { !$0.isEmpty }
    }

    static func field(_ name: String, in paragraph: String) -> String? {
        for line in paragraph.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimming(.whitespaces)
        }
        return nil
    }

    /// Directories never removed even when a purged package listed them and they are empty.
    static let essentialDirectories: Set<String> = [
        "boot", "etc", "usr", "usr/lib", "usr/bin", "usr/sbin", "usr/share",
        "usr/share/doc", "var", "var/lib", "lib",
        "usr/lib/modules", "lib/modules",
    ]
}
