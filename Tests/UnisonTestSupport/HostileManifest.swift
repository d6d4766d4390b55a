// Image manifests with chosen layer sizes, for the size-check tests (UnisonOCITests/SizeCheckTests.swift
// and UnisonCLITests/SizeCheckCLITests.swift).
import Foundation

package enum HostileManifest {
    package static let digest = "sha256:" + String(repeating: "a", count: 64)

    package static func manifest(layerSizes: [String]) -> Data {
        let layers = layerSizes.map { #"{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(digest)","size":\#($0)}"# }
        return Data(
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(digest)","size":2},"layers":[\#(layers.joined(separator: ","))]}"#
                .utf8)
    }
}
