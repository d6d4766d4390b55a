// What an image root contains, for its SBOM:
//
//   var/lib/dpkg/status                      one deb822 paragraph per package: Package, Status,
//                                            Version, Architecture, Source ("name" or "name (version)")
//   usr/share/doc/<pkg>/copyright            DEP-5 (machine-readable) when it starts with Format:;
//                                            the License: of its first "Files: *" paragraph
//   <store>/manifests/<host>/<ns>/<model>/<tag>   Ollama model manifests (digest = sha256 of the file)
//   …/oci-layout + index.json                OCI image layouts (preloaded images), per manifest
//   usr/local/bin/unisonctl                  the toolchain itself
import FoundationEssentials
import UnisonArchive
import UnisonCore

/// Everything the SBOM of an image lists, sorted so the document is deterministic.
package struct RootInventory: Sendable, Codable, Equatable {
    package struct DebianPackage: Sendable, Codable, Equatable {
        package var name: String
        package var version: String
        package var architecture: String
        package var source: String
        package var sourceVersion: String
        /// SPDX license expression, nil when the copyright file states none machine-readably.
        package var license: String?
        /// Debian license names that map to no SPDX identifier (declared as LicenseRef-…).
        package var licenseRefs: [String]
    }

    package struct OCIImage: Sendable, Codable, Equatable {
        /// `registry/repository` (for Ollama models: `registry.ollama.ai/library/qwen2.5`).
        package var repository: String
        package var tag: String?
        package var digest: String
        package var kind: Kind
        package enum Kind: String, Sendable, Codable { case model, image }
    }

    package struct Tool: Sendable, Codable, Equatable {
        package var name: String
        package var version: String
        package var path: String
        package var sha256: String
    }

    package var packages: [DebianPackage]
    package var images: [OCIImage]
    package var tools: [Tool]

    package static let unisonctlPath = "usr/local/bin/unisonctl"

    /// Reads the inventory of `tree`; `modelStores` are the Ollama stores (spec `models.store`).
    package static func scan(_ tree: FileTree, modelStores: [String] = []) throws -> RootInventory {
        var images = try modelStores.flatMap { try models(in: tree, store: $0) }
        images += try ociLayouts(in: tree)
        images.sort { ($0.repository, $0.tag ?? "", $0.digest) < ($1.repository, $1.tag ?? "", $1.digest) }
        var tools: [Tool] = []
        if let entry = tree[unisonctlPath], case let .regular(content) = entry.kind {
            tools.append(
                Tool(
                    name: "unisonctl", version: ToolVersion.current, path: "/" + unisonctlPath,
                    sha256: SHA256Hex.hex(try content.data())))
        }
        return RootInventory(packages: try debianPackages(in: tree), images: images, tools: tools)
    }

    // MARK: dpkg

    static func debianPackages(in tree: FileTree) throws -> [DebianPackage] {
        guard let entry = tree["var/lib/dpkg/status"], case let .regular(content) = entry.kind else { return [] }
        let text = String(decoding: try content.data(), as: UTF8.self)
        var out: [DebianPackage] = []
        for paragraph in text.components(separatedBy: "\n\n") {
            let fields = deb822(paragraph)
            guard let name = fields["Package"], let version = fields["Version"],
                fields["Status"]?.hasSuffix(" installed") ?? false
            else { continue }
            let arch = fields["Architecture"] ?? "all"
            var source = name, sourceVersion = version
            if let s = fields["Source"] {
                let parts = s.split(separator: " ", maxSplits: 1)
                source = String(parts[0])
                if parts.count > 1 { sourceVersion = parts[1].trimming(ScalarSet(charactersIn: "() ")) }
            }
            let (license, refs) = try copyrightLicense(tree, package: name)
            out.append(
                DebianPackage(
                    name: name, version: version, architecture: arch, source: source, sourceVersion: sourceVersion,
                    license: license, licenseRefs: refs))
        }
        return out.sorted { ($0.name, $0.architecture) < ($1.name, $1.architecture) }
    }

    /// deb822 fields of one paragraph (continuation lines folded into the field before).
    static func deb822(_ paragraph: String) -> [String: String] {
        var fields: [String: String] = [:]
        var last: String?
        for line in paragraph.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == " " || line.first == "\t" {
                if let last { fields[last, default: ""] += "\n" + line.trimming(.whitespaces) }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            fields[key] = line[line.index(after: colon)...].trimming(.whitespaces)
            last = key
        }
        return fields
    }

    /// The license of a DEP-5 copyright file's first `Files: *` paragraph (else its first
    /// Files paragraph), as an SPDX expression; nil for a free-form file.
    static func copyrightLicense(_ tree: FileTree, package: String) throws -> (String?, [String]) {
        guard let path = tree.resolvingSymlinks("usr/share/doc/\(package)/copyright", followFinal: true),
            let entry = tree[path], case let .regular(content) = entry.kind, content.size < 4 << 20
        else { return (nil, []) }
        let text = String(decoding: try content.data(), as: UTF8.self)
        guard text.hasPrefix("Format:") else { return (nil, []) }
        let paragraphs = text.components(separatedBy: "\n\n").map(deb822).filter { $0["Files"] != nil && $0["License"] != nil }
        guard
            let chosen = paragraphs.first(where: { $0["Files"]?.split(whereSeparator: \.isWhitespace).contains("*") ?? false })
                ?? paragraphs.first,
            let license = chosen["License"]?.split(separator: "\n").first.map(String.init)?.trimming(.whitespaces),
            !license.isEmpty
        else { return (nil, []) }
        return DebianLicense.spdxExpression(license)
    }

    // MARK: models and images

    static func models(in tree: FileTree, store: String) throws -> [OCIImage] {
        let root = (try? FileTree.normalize(store, allowAbsolute: true)) ?? ""
        guard !root.isEmpty else { return [] }
        let prefix = root + "/manifests/"
        return try tree.walk().compactMap { entry -> OCIImage? in
            guard entry.path.hasPrefix(prefix), case let .regular(content) = entry.kind else { return nil }
            let parts = entry.path.dropFirst(prefix.count).split(separator: "/")
            guard parts.count == 4 else { return nil }
            return OCIImage(
                repository: parts[0...2].joined(separator: "/"), tag: String(parts[3]),
                digest: "sha256:" + SHA256Hex.hex(try content.data()), kind: .model)
        }
    }

    static func ociLayouts(in tree: FileTree) throws -> [OCIImage] {
        var out: [OCIImage] = []
        for entry in tree.walk() where entry.path.hasSuffix("/oci-layout") || entry.path == "oci-layout" {
            let dir = entry.path == "oci-layout" ? "" : String(entry.path.dropLast("/oci-layout".count))
            guard let index = tree[dir.isEmpty ? "index.json" : dir + "/index.json"], case let .regular(content) = index.kind,
                content.size < 4 << 20,
                let object = try JSONValue.parse(try content.data()).object,
                let manifests = object["manifests"]?.array?.compactMap(\.object), manifests.count == object["manifests"]?.array?.count
            else { continue }
            for m in manifests {
                guard let digest = m["digest"]?.string else { continue }
                // All strings or none, as the `[String: String]` cast was.
                let values = m["annotations"]?.object ?? [:]
                let strings = values.compactMapValues(\.string)
                let annotations = strings.count == values.count ? strings : [:]
                let name = annotations["io.containerd.image.name"] ?? annotations["org.opencontainers.image.ref.name"]
                let (repo, tag) = splitReference(name, fallback: "/" + dir)
                out.append(OCIImage(repository: repo, tag: tag, digest: digest, kind: .image))
            }
        }
        return out
    }

    /// `repo[:tag]` of an image name; a bare tag (OCI ref.name) keeps the layout path as repo.
    static func splitReference(_ name: String?, fallback: String) -> (String, String?) {
        guard let name, !name.isEmpty else { return (fallback, nil) }
        if !name.contains("/"), !name.contains(":") { return (fallback, name) }
        let slash = name.lastIndex(of: "/") ?? name.startIndex
        if let colon = name[slash...].lastIndex(of: ":") {
            return (String(name[..<colon]), String(name[name.index(after: colon)...]))
        }
        return (name, nil)
    }
}

/// Debian copyright-format license short names (DEP-5 §"License specification") as SPDX
/// identifiers. Names with no SPDX equivalent become `LicenseRef-` identifiers, which the SBOM
/// declares in `hasExtractedLicensingInfos`.
enum DebianLicense {
    static let known: [String: String] = [
        "apache-2.0": "Apache-2.0", "artistic": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0",
        "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
        "isc": "ISC", "expat": "MIT", "mit": "MIT", "zlib": "Zlib", "mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0",
        "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0", "curl": "curl", "openssl": "OpenSSL", "ssleay": "SSLeay-standalone",
        "python-2.0": "Python-2.0", "psf-2": "PSF-2.0", "gfdl-1.2+": "GFDL-1.2-or-later", "gfdl-1.3+": "GFDL-1.3-or-later",
        "gfdl-1.2": "GFDL-1.2-only", "gfdl-1.3": "GFDL-1.3-only", "unicode-dfs-2016": "Unicode-DFS-2016",
        "x11": "X11", "bsl-1.0": "BSL-1.0", "wtfpl": "WTFPL", "sleepycat": "Sleepycat", "zpl-2.1": "ZPL-2.1",
        "ftl": "FTL", "bzip2-1.0.6": "bzip2-1.0.6", "libpng": "Libpng", "ofl-1.1": "OFL-1.1", "unlicense": "Unlicense",
        "0bsd": "0BSD",
    ]

    /// One Debian name: the table above, then the GPL family (`GPL-2+` → `GPL-2.0-or-later`).
    static func spdx(_ name: String) -> String? {
        let lower = name.lowercased()
        if let id = known[lower] { return id }
        for family in ["gpl", "lgpl", "agpl"] where lower.hasPrefix(family + "-") {
            var version = String(lower.dropFirst(family.count + 1))
            let plus = version.hasSuffix("+")
            if plus { version.removeLast() }
            guard let v = Double(version) else { return nil }
            let allowed: [String: [String]] = ["gpl": ["1.0", "2.0", "3.0"], "lgpl": ["2.0", "2.1", "3.0"], "agpl": ["1.0", "3.0"]]
            let text = version.contains(".") ? version : NumberText.fixed(v, digits: 1)
            guard allowed[family]!.contains(text) else { return nil }
            return "\(family.uppercased())-\(text)-\(plus ? "or-later" : "only")"
        }
        return nil
    }

    /// A Debian expression (`GPL-2+ or Artistic`, `LGPL-2.1+ and BSD-3-clause`) as SPDX, with
    /// the `LicenseRef-` names it had to invent.
    static func spdxExpression(_ text: String) -> (String?, [String]) {
        var refs: [String] = []
        var out: [String] = []
        let words = text.replacing(",", with: " ").split(whereSeparator: \.isWhitespace).map(String.init)
        var term: [String] = []
        func flush() {
            guard !term.isEmpty else { return }
            let name = term.joined(separator: " ")
            if term.count == 1, let id = spdx(name) {
                out.append(id)
            } else {
                let ref = SPDXDocument.identifier(name).replacing("SPDXRef-", with: "LicenseRef-")
                refs.append(name)
                out.append(ref)
            }
            term = []
        }
        for word in words {
            switch word.lowercased() {
            case "or": flush(); out.append("OR")
            case "and": flush(); out.append("AND")
            default: term.append(word)
            }
        }
        flush()
        // A dangling operator (malformed input) makes no expression.
        guard let first = out.first, let last = out.last, !["OR", "AND"].contains(first), !["OR", "AND"].contains(last),
            !zip(out, out.dropFirst()).contains(where: { ["OR", "AND"].contains($0) && ["OR", "AND"].contains($1) })
        else { return (nil, []) }
        return (out.joined(separator: " "), Array(Set(refs)).sorted())
    }
}
