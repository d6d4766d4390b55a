// Image references for the registry client: the grammar (UnisonCore's `ImageReferenceGrammar`)
// split, then each part validated and normalised.
//
// Docker Hub defaults: no domain means `docker.io`, and a single component there means
// `library/<name>`; its API lives at `registry-1.docker.io`.
import FoundationEssentials
import UnisonCore

/// A validated tag (`[\w][\w.-]{0,127}`).
package struct Tag: Sendable, Hashable, Comparable, StringCodable {
    package let value: String

    package init?(_ text: String) {
        guard ImageReferenceGrammar.isTag(text) else { return nil }
        value = text
    }

    package static func parse(_ text: String) throws -> Tag {
        guard let tag = Tag(text) else { throw OCIError.invalidReference(text, reason: "'\(text)' is not a valid tag") }
        return tag
    }

    package var description: String { value }
    package static func < (a: Tag, b: Tag) -> Bool { a.value < b.value }

    package static let expectedText = "a valid tag"
}

/// A reference to an image or artifact in a registry: registry host, repository, and a tag
/// and/or a digest. When both are present the digest wins for fetching.
package struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    package static let dockerHub = "docker.io"

    /// `host[:port]`, lowercased; `docker.io` for Docker Hub.
    package let registry: String
    /// `team/app`; `library/<name>` on Docker Hub for single names.
    package let repository: String
    package let tag: Tag?
    package let digest: Digest?

    package init(registry: String, repository: String, tag: Tag? = nil, digest: Digest? = nil) throws {
        guard Self.isValidHost(registry) else {
            throw OCIError.invalidReference("\(registry)/\(repository)", reason: "'\(registry)' is not a valid registry host")
        }
        let components = repository.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, components.allSatisfy(Self.isPathComponent) else {
            throw OCIError.invalidReference(
                "\(registry)/\(repository)", reason: "'\(repository)' is not a valid repository name (lowercase letters, digits and . _ - separators)"
            )
        }
        guard registry.utf8.count + 1 + repository.utf8.count <= ImageReferenceGrammar.maxNameLength else {
            throw OCIError.invalidReference("\(registry)/\(repository)", reason: "the name is longer than 255 characters")
        }
        self.registry = registry.lowercased()
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses `[host[:port]/]path[:tag][@digest]`, also accepting a `docker://` prefix as skopeo
    /// writes it. A reference without tag or digest is accepted here; callers that need one ask
    /// for `requireIdentifier()`.
    package init(parsing text: String) throws {
        var rest = Substring(text)
        if rest.hasPrefix("docker://") { rest = rest.dropFirst("docker://".count) }
        guard !rest.isEmpty else { throw OCIError.invalidReference(text, reason: "empty reference") }
        let parts = ImageReferenceGrammar.split(rest, alsoHost: { $0.contains(where: \.isUppercase) })
        var digest: Digest?
        if let d = parts.digest {
            guard let parsed = Digest(String(d)) else { throw OCIError.invalidReference(text, reason: "'\(d)' is not a valid digest") }
            digest = parsed
        }
        var tag: Tag?
        if let t = parts.tag {
            guard let parsed = Tag(String(t)) else { throw OCIError.invalidReference(text, reason: "'\(t)' is not a valid tag") }
            tag = parsed
        }
        var components = parts.components.map(String.init)
        var registry = parts.host.map { $0.lowercased() } ?? Self.dockerHub
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = Self.dockerHub }
        if registry == Self.dockerHub, components.count == 1 { components.insert("library", at: 0) }
        try self.init(registry: registry, repository: components.joined(separator: "/"), tag: tag, digest: digest)
    }

    /// The tag or digest to fetch: the digest when there is one.
    package var identifier: String? { digest?.description ?? tag?.value }

    /// Throws unless the reference names a tag or a digest.
    package func requireIdentifier() throws -> String {
        guard let identifier else { throw OCIError.invalidReference(description, reason: "a tag or @digest is required") }
        return identifier
    }

    package func with(tag: Tag?) -> ImageReference { ImageReference(unchecked: registry, repository, tag, nil) }
    package func with(digest: Digest) -> ImageReference { ImageReference(unchecked: registry, repository, tag, digest) }
    /// Same repository, no tag or digest.
    package var repositoryReference: ImageReference { ImageReference(unchecked: registry, repository, nil, nil) }

    /// The same repository path on another registry (used to point a spec's images at a test registry).
    package func with(registry newRegistry: String) throws -> ImageReference {
        try ImageReference(registry: newRegistry, repository: repository, tag: tag, digest: digest)
    }

    /// `registry/repository[:tag][@digest]`.
    package var description: String {
        var out = "\(registry)/\(repository)"
        if let tag { out += ":\(tag.value)" }
        if let digest { out += "@\(digest)" }
        return out
    }

    /// `registry/repository`.
    package var name: String { "\(registry)/\(repository)" }

    private init(unchecked registry: String, _ repository: String, _ tag: Tag?, _ digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    static func isPathComponent(_ s: String) -> Bool { ImageReferenceGrammar.isPathComponent(s) }

    static func isValidHost(_ s: String) -> Bool { ImageReferenceGrammar.isHost(s) }
}

/// An OCI image layout directory as skopeo writes it: `oci:DIR[:TAG]`.
package struct LayoutReference: Sendable, Hashable, CustomStringConvertible {
    package let directory: URL
    package let tag: Tag?

    package init(directory: URL, tag: Tag? = nil) {
        self.directory = directory
        self.tag = tag
    }

    package var description: String { "oci:\(directory.path)" + (tag.map { ":\($0.value)" } ?? "") }
}

/// Where an image is: in a registry or in an OCI layout directory.
package enum ImageLocation: Sendable, Hashable, CustomStringConvertible {
    case registry(ImageReference)
    case layout(LayoutReference)

    /// `oci:DIR[:TAG]` for a layout (the directory may not contain ':'), anything else as a
    /// registry reference.
    package init(parsing text: String) throws {
        if text.hasPrefix("oci:") {
            let rest = text.dropFirst(4)
            guard !rest.isEmpty else { throw OCIError.invalidReference(text, reason: "oci: needs a directory") }
            if let colon = rest.firstIndex(of: ":") {
                let dir = String(rest[..<colon])
                let t = String(rest[rest.index(after: colon)...])
                guard !dir.isEmpty else { throw OCIError.invalidReference(text, reason: "oci: needs a directory") }
                guard let tag = Tag(t) else { throw OCIError.invalidReference(text, reason: "'\(t)' is not a valid tag") }
                self = .layout(LayoutReference(directory: URL(fileURLWithPath: dir), tag: tag))
            } else {
                self = .layout(LayoutReference(directory: URL(fileURLWithPath: String(rest))))
            }
            return
        }
        self = .registry(try ImageReference(parsing: text))
    }

    package var description: String {
        switch self {
        case let .registry(r): return r.description
        case let .layout(l): return l.description
        }
    }
}
