import FoundationEssentials
import UnisonCore
import UnisonOCI

/// The preloaded store checked before anything of it is loaded (`unisonctl image verify-store`,
/// run by the first-boot loader): every image that `index.json` lists, its manifest, config and
/// layers read back and checked against their digests and sizes, and every blob the
/// docker-archive view `docker/<n>.json` hands to `docker load` one of those checked blobs.
extension ServiceImagePreload {
    /// One image of the store that cannot be loaded, and why.
    package struct StoreProblem: Sendable, Codable, Equatable, CustomStringConvertible {
        /// The image's reference (`images.tsv`, the index's ref-name annotation).
        package var image: String
        package var services: [String]
        /// The blob that failed, `sha256:<hex>` (nil when the problem is not one blob).
        package var digest: String?
        package var reason: String

        /// `<service>: image <ref>: blob <digest>: <reason>`: the loader's failure note, which
        /// the stack gate prints as `UNISONOS-STACK-FAILED: <service>: image …`.
        package var description: String {
            "\(services.first ?? "images"): image \(image): " + (digest.map { "blob \($0): " } ?? "") + reason
        }
    }

    /// What `verifyStore` found (`--json`).
    package struct StoreCheck: Sendable, Codable, Equatable {
        package var schema = "unisonctl.image-store-check/v1"
        package var store: String
        package var images: Int
        /// Distinct blobs checked (manifests, configs, layers).
        package var blobs: Int
        package var bytes: Int64
        /// The first problem of each image that has one, in store order.
        package var problems: [StoreProblem]
        package var ok: Bool
    }

    /// `images.tsv`: line n is `n <TAB> services <TAB> reference`.
    static func readImageList(_ store: URL) -> [(n: String, services: [String], reference: String)] {
        let text = (try? String(contentsOf: store.appendingPathComponent("images.tsv"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 3 else { return nil }
            return (f[0], f[1].split(separator: ",").map(String.init), f[2])
        }
    }

    /// Checks the store at `store` without loading anything; a blob is read once however many
    /// images share it.
    package static func verifyStore(at store: URL) -> StoreCheck {
        var check = StoreCheck(store: store.path, images: 0, blobs: 0, bytes: 0, problems: [], ok: false)
        let list = readImageList(store)
        func services(_ ref: String) -> [String] { list.first { $0.reference == ref }?.services ?? [] }
        let layout: OCILayout
        let entries: [Descriptor]
        do {
            layout = try OCILayout(opening: store)
            entries = try layout.index().manifests
        } catch {
            check.problems.append(StoreProblem(image: store.path, services: ["images"], digest: nil, reason: "\(error)"))
            return check
        }
        if entries.isEmpty || list.count != entries.count {
            check.problems.append(
                StoreProblem(
                    image: store.path, services: ["images"], digest: nil,
                    reason: "index.json lists \(entries.count) images, images.tsv \(list.count)"))
        }
        var checked: [String: String?] = [:]  // digest → problem (nil: intact)
        func verify(_ blob: Descriptor, _ body: () throws -> Void) -> String? {
            let key = blob.digest.description
            if let known = checked[key] { return known }
            var problem: String?
            // The size first (a stat): a cut-short blob says so rather than "does not match".
            let size = ((try? FileManager.default.attributesOfItem(atPath: layout.blobURL(blob.digest).path))?[.size] as? UInt).map(Int64.init)
            if let size, size != blob.size {
                problem = "is \(size) bytes, its descriptor says \(blob.size)"
            } else {
                do { try body() } catch let OCIError.digestMismatch(_, _, actual) {
                    problem = "does not match its digest (the file hashes to \(actual))"
                } catch let OCIError.sizeMismatch(_, _, expected, actual) {
                    problem = "is \(actual) bytes, its descriptor says \(expected)"
                } catch let OCIError.layout(_, reason) where reason.hasSuffix("is missing") {
                    problem = "is missing"
                } catch {
                    problem = "\(error)"
                }
            }
            checked[key] = problem
            if problem == nil { check.bytes += blob.size }
            return problem
        }
        for entry in entries {
            let ref = entry.annotations?[OCILayout.refNameAnnotation] ?? entry.digest.description
            let owners = services(ref)
            check.images += 1
            func fail(_ digest: Digest?, _ reason: String) {
                check.problems.append(StoreProblem(image: ref, services: owners, digest: digest?.description, reason: reason))
            }
            var document: ManifestDocument?
            if let problem = verify(entry, { document = try layout.manifest(entry) }) {
                fail(entry.digest, "(the manifest) " + problem)
                continue
            }
            if document == nil { document = try? layout.manifest(entry) }
            guard case let .image(manifest)? = document?.content else {
                fail(entry.digest, "is not an image manifest")
                continue
            }
            let blobs = [manifest.config] + manifest.layers
            if let bad = blobs.lazy.compactMap({ blob in verify(blob, { try layout.verifyBlob(blob) }).map { (blob, $0) } }).first {
                fail(bad.0.digest, bad.1)
                continue
            }
            // docker load reads docker/<n>.json's files: each must be one of the blobs just checked.
            guard let n = list.first(where: { $0.reference == ref })?.n else {
                fail(nil, "is not in images.tsv")
                continue
            }
            let allowed = Set(blobs.map { "blobs/sha256/\($0.digest.hex)" })
            let view = store.appendingPathComponent("docker/\(n).json")
            guard let data = FileManager.default.contents(atPath: view.path),
                let archive = (try? JSONValue.parse(data))?.array, archive.count == 1, archive[0].object != nil,
                let config = archive[0]["Config"]?.string, let layerValues = archive[0]["Layers"]?.array,
                let layers = Optional(layerValues.compactMap(\.string)), layers.count == layerValues.count
            else {
                fail(nil, "docker/\(n).json is missing or not a docker-archive manifest")
                continue
            }
            let sums = (try? String(contentsOf: store.appendingPathComponent("docker/\(n).sha256"), encoding: .utf8)) ?? ""
            let listed = sums.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? "" }
            if let stray = ([config] + layers + listed).first(where: { !allowed.contains($0) }) {
                fail(nil, "docker/\(n) names \(stray), which is not a blob of the image")
            } else if Set(listed) != Set([config] + layers) {
                fail(nil, "docker/\(n).sha256 does not list the image's blobs")
            }
        }
        check.blobs = checked.count
        check.ok = check.problems.isEmpty
        return check
    }
}
