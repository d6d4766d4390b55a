// The stack's container images, preloaded into an image for an offline first boot.
//
//   /var/lib/unison/images/            one OCI image layout (image-spec image-layout.md)
//     oci-layout, index.json           every image, annotated with its full reference
//     blobs/sha256/<hex>               every blob once, shared between images
//     docker/<n>.json                  docker-archive manifest of image n (docker load's manifest.json)
//     docker/<n>.sha256                `sha256sum -c` list of image n's blobs
//     images.tsv                       n <TAB> services <TAB> reference, one image a line
//     preload.json                     the build's report (schema unisonctl.image-preload/v1)
//
// At first boot the platform unit's ExecStartPre (`bin/unison-load-images`, a drop-in added
// here) has `unisonctl image verify-store` check every blob of every image (digest and size,
// ServiceImagePreload+Verify.swift), then streams each image to `docker load` as a tar of
// its blobs with docker/<n>.json as manifest.json. Docker's classic image store reads
// docker-archive manifests only (moby image/tarexport), so the layout carries both views.
import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonInstall
import UnisonOCI
import UnisonSpec

package enum ServiceImagePreload {
    /// What to preload and from where.
    package struct Request: Sendable {
        /// `host[:port]` serving the images under their repository paths instead of their own
        /// registries (a mirror, a test registry).
        package var registry: String?
        package var platform: UnisonOCI.Platform
        package var log: @Sendable (String) -> Void
        package init(
            registry: String? = nil, platform: UnisonOCI.Platform = UnisonOCI.Platform(os: "linux", architecture: "amd64"),
            log: @escaping @Sendable (String) -> Void = { _ in }
        ) {
            self.registry = registry
            self.platform = platform
            self.log = log
        }
    }

    package enum PreloadError: Error, CustomStringConvertible, ExitCoded {
        case badReference(service: String, reference: String, reason: String)
        case pullFailed(image: String, services: [String], reason: String)
        case blobMismatch(image: String, digest: String, reason: String)
        case notAnImage(image: String)

        package var exitStatus: ExitStatus {
            if case .badReference = self { return .badInput }
            return .checkFailed
        }

        package var description: String {
            switch self {
            case let .badReference(service, reference, reason):
                return "service \(service): image '\(reference)' cannot be preloaded: \(reason)"
            case let .pullFailed(image, services, reason):
                return "preloading image \(image) (\(services.joined(separator: ", "))) failed: \(reason)"
            case let .blobMismatch(image, digest, reason):
                return "preloading image \(image): blob \(digest) does not match its digest: \(reason)"
            case let .notAnImage(image):
                return "preloading image \(image): the registry returned an index with no linux/amd64 image"
            }
        }
    }

    package struct ImageEntry: Sendable, Codable, Equatable {
        package var reference: String
        package var services: [String]
        package var manifest: String
        package var bytes: Int64
    }

    /// The preload's report; `bytes` counts each shared blob once.
    package struct Report: Sendable, Codable, Equatable {
        package var schema = "unisonctl.image-preload/v1"
        package var destination: String
        package var images: [ImageEntry]
        package var blobs: Int
        package var bytes: Int64
        /// What the images would take without shared blobs.
        package var unsharedBytes: Int64
    }

    /// A pulled store ready to be placed in an image.
    package struct Store: Sendable {
        package var directory: URL
        package var report: Report
    }

    package static let destination = "/var/lib/unison/images"
    package static let loaderName = "unison-load-images"

    /// The images an image's stack runs: every service whose compose profiles are on
    /// (`ollama` where Ollama runs as a container), by the plan's references, deduplicated.
    package static func images(plan: InstallPlan, spec: PlatformSpec, ollama: OllamaPlacement) -> [(reference: String, services: [String])] {
        let profiles = Set(ComposeBundle.profiles(ollama: ollama))
        var order: [String] = []
        var services: [String: [String]] = [:]
        for s in spec.allServices where s.profiles.isEmpty || !profiles.isDisjoint(with: s.profiles) {
            let ref = plan.images[s.name] ?? s.image
            if services[ref] == nil { order.append(ref) }
            services[ref, default: []].append(s.name)
        }
        return order.map { ($0, services[$0]!) }
    }

    /// Pulls every image of the plan's stack into one OCI layout under `workDir`, verifies every
    /// blob, writes the docker-archive views and the report. Throws naming the image that failed.
    package static func pull(
        plan: InstallPlan, spec: PlatformSpec, ollama: OllamaPlacement, request: Request,
        workDir: URL, client: RegistryClient = RegistryClient()
    ) async throws -> Store {
        let dir = workDir.appendingPathComponent("service-images")
        try? FileManager.default.removeItem(at: dir)
        let layout = try OCILayout.create(at: dir)
        let wanted = images(plan: plan, spec: spec, ollama: ollama)
        var entries: [ImageEntry] = []
        var index: [Descriptor] = []
        var unshared: Int64 = 0
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("docker"), withIntermediateDirectories: true)
        var tsv = ""
        for (n, (text, services)) in wanted.enumerated() {
            let canonical: ImageReference
            do { canonical = try ImageReference(parsing: text) } catch {
                throw PreloadError.badReference(service: services[0], reference: text, reason: "\(error)")
            }
            guard canonical.tag != nil || canonical.digest != nil else {
                throw PreloadError.badReference(service: services[0], reference: text, reason: "it names no tag or digest")
            }
            let source = try request.registry.map { try canonical.with(registry: $0) } ?? canonical
            let copy: CopyReport
            do {
                copy = try await client.pull(reference: source, toLayout: dir, tag: Tag("preload-\(n)"), platform: request.platform)
            } catch let OCIError.digestMismatch(what, expected, actual) {
                throw PreloadError.blobMismatch(
                    image: canonical.description, digest: expected.description,
                    reason: "\(what) has \(actual)")
            } catch {
                throw PreloadError.pullFailed(image: canonical.description, services: services, reason: "\(error)")
            }
            let manifestDescriptor = Descriptor(mediaType: copy.mediaType, digest: copy.digest, size: 0)
            let document = try layout.manifest(try layout.resolve(tag: Tag("preload-\(n)")))
            guard case let .image(manifest) = document.content, manifestDescriptor.digest == document.digest else {
                throw PreloadError.notAnImage(image: canonical.description)
            }
            // Every blob read back from disk and checked again: the layout is what ships.
            for blob in [manifest.config] + manifest.layers {
                do { try layout.verifyBlob(blob) } catch {
                    throw PreloadError.blobMismatch(image: canonical.description, digest: blob.digest.description, reason: "\(error)")
                }
            }
            let bytes = ([manifest.config] + manifest.layers).reduce(Int64(document.bytes.count)) { $0 + $1.size }
            unshared += bytes
            // Docker's repository:tag (its classic store has no digest references for loaded images).
            let repoTag =
                "\(canonical.registry == ImageReference.dockerHub ? "docker.io" : canonical.registry)/\(canonical.repository):\(canonical.tag?.value ?? "latest")"
            let dockerManifest: JSONValue = [
                [
                    "Config": .string("blobs/sha256/\(manifest.config.digest.hex)"),
                    "RepoTags": [.string(repoTag)],
                    "Layers": .array(manifest.layers.map { .string("blobs/sha256/\($0.digest.hex)") }),
                ]
            ]
            try AtomicFile.write(
                try dockerManifest.encoded(),
                to: dir.appendingPathComponent("docker/\(n).json"))
            let sums = ([manifest.config] + manifest.layers).map { "\($0.digest.hex)  blobs/sha256/\($0.digest.hex)\n" }.joined()
            try AtomicFile.write(Data(sums.utf8), to: dir.appendingPathComponent("docker/\(n).sha256"))
            tsv += "\(n)\t\(services.joined(separator: ","))\t\(text)\n"
            var entry = document.descriptor
            entry.annotations = [OCILayout.refNameAnnotation: text, "io.containerd.image.name": text]
            index.append(entry)
            entries.append(ImageEntry(reference: text, services: services, manifest: document.digest.description, bytes: bytes))
            request.log("image \(text) (\(services.joined(separator: ", "))): \(ByteSize(bytes: bytes)) in \(manifest.layers.count) layers")
        }
        let indexEncoder = JSONEncoder()
        indexEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try indexEncoder.encode(ImageIndex(manifests: index)), to: dir.appendingPathComponent("index.json"))
        try AtomicFile.write(Data(tsv.utf8), to: dir.appendingPathComponent("images.tsv"))
        let blobFiles = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("blobs/sha256").path)
            .filter { !$0.hasPrefix(".") }
        var total: Int64 = 0
        for name in blobFiles {
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("blobs/sha256/\(name)").path)
            total += (attributes[.size] as? UInt).map(Int64.init) ?? 0
        }
        let report = Report(destination: destination, images: entries, blobs: blobFiles.count, bytes: total, unsharedBytes: unshared)
        try AtomicFile.write(try JSONOutput.encoder().encode(report), to: dir.appendingPathComponent("preload.json"))
        request.log(
            "\(entries.count) images, \(blobFiles.count) blobs, \(ByteSize(bytes: total)) in \(destination)"
                + (unshared > total ? " (\(ByteSize(bytes: unshared - total)) shared between images)" : ""))
        return Store(directory: dir, report: report)
    }

    /// The store at `/var/lib/unison/images`, the loader, and the platform unit's drop-in that runs
    /// it before `docker compose up`.
    package static func overlay(store: Store, layout: InstallLayout, mtime: Int64) -> any RootfsOverlay {
        let loader = layout.binDir + "/" + loaderName
        let dropIn = "/etc/systemd/system/\(layout.unit).d/10-unison-images.conf"
        let unit = """
            # Generated by unisonctl: load the preloaded images (no network) before the stack starts.
            [Unit]
            Wants=docker.service
            After=docker.service

            [Service]
            ExecStartPre=\(loader)

            """
        let layoutCopy = ModelStoreOverlay(store: store.directory, destination: destination, mtime: mtime)
        return ClosureOverlay { tree in
            try layoutCopy.apply(to: &tree)
            try tree.addFile(
                String(loader.dropFirst()), loaderScript(store: destination, dataDir: layout.dataDir, unisonctl: layout.binary),
                mode: 0o755, mtime: mtime)
            try tree.addFile(String(dropIn.dropFirst()), unit, mode: 0o644, mtime: mtime)
        }
    }

    /// The first-boot loader (POSIX sh, coreutils, GNU tar, docker). `unisonctl image
    /// verify-store` checks every blob of every image before any is loaded, so a corrupt store
    /// starts nothing: the loader is the platform unit's ExecStartPre, and its exit 78 fails the
    /// unit before `docker compose up` without restarts (RestartPreventExitStatus). The failure,
    /// naming the service, the image and the blob, is left in `<store>/load-failed` for first
    /// boot's stack gate to report. Runs once per store (`<dataDir>/.images-loaded` holds the
    /// index's checksum).
    package static func loaderScript(store: String, dataDir: String, unisonctl: String) -> String {
        """
        #!/bin/sh
        # Generated by unisonctl: loads the preloaded service images into Docker, offline.
        set -u
        store=\(ShellQuote.quote(store))
        stamp=\(ShellQuote.quote(dataDir + "/.images-loaded"))
        unisonctl=\(ShellQuote.quote(unisonctl))
        failed="$store/load-failed"
        fail() { printf '%s\\n' "$1" >"$failed"; echo "unison-load-images: $1" >&2; exit 78; }
        [ -f "$store/index.json" ] || exit 0
        want=$(sha256sum "$store/index.json" | cut -d' ' -f1)
        [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0
        rm -f "$failed"
        command -v docker >/dev/null 2>&1 || fail "engine: docker is not installed"
        [ -x "$unisonctl" ] || fail "images: $unisonctl is missing: the image store cannot be verified"
        if ! out=$("$unisonctl" image verify-store "$store" 2>&1); then
          line=$(printf '%s\\n' "$out" | head -n 1)
          fail "${line:-images: unisonctl image verify-store failed}"
        fi
        tab=$(printf '\\t')
        while IFS="$tab" read -r n services ref; do
          out=$(cd "$store" && tar -cf - --owner=0 --group=0 --transform "s|^docker/$n\\.json\\$|manifest.json|" \\
                "docker/$n.json" $(cut -d' ' -f3 "docker/$n.sha256") | docker load 2>&1) ||
            fail "${services%%,*}: image $ref: docker load failed: $(printf '%s' "$out" | tail -n 1)"
          echo "unison-load-images: $ref: $out"
        done <"$store/images.tsv"
        printf '%s\\n' "$want" >"$stamp"

        """
    }
}
