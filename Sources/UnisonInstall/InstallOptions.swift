import FoundationEssentials
import UnisonCore
import UnisonSpec

/// Where an install goes and how it will run there.
package enum InstallMode: String, Sendable, Codable, CaseIterable {
    /// A Linux host: Docker and the compose plugin are installed from apt when missing.
    case native
    /// A host that already runs Docker with the compose plugin (required, never installed).
    case docker
    /// A WSL distribution: `/etc/wsl.conf` turns systemd on, and a boot command starts the
    /// stack when systemd is off.
    case wsl
    /// An image being built (VM, ISO): no host actions, secrets seeded at first boot.
    case image
}

/// When the env file's secrets are generated.
package enum SecretSeeding: String, Sendable, Codable {
    /// Now, at install time (hosts, and `--root` staging).
    case atInstall = "at-install"
    /// On the machine at first boot (images: every machine gets its own secrets).
    case atFirstBoot = "at-first-boot"
}

/// Everything an install is asked for, besides the spec.
package struct InstallOptions: Sendable {
    package var mode: InstallMode
    /// The platform version to pin images to (`vX.Y.Z` tags); default the manifest's, else the spec's.
    package var version: SemVer?
    /// A release channel from the spec (`nightly` pins `edge-main`); default `stable`.
    package var channel: String?
    /// A model pack from the spec; default the spec's `installer.env.UNISON_MODEL_PACK`, else the first pack.
    package var modelPack: String?
    /// A release manifest (`unisonos-manifest-<v>.json`): images are pinned by its digests.
    package var releaseManifest: URL?
    /// The `unisonctl` binary to install in `/usr/local/bin`; nil installs none.
    package var unisonctlBinary: URL?
    /// The spec's own text, copied to `<prefix>/unison.yaml` so host commands find it.
    package var specText: String?
    package var secrets: SecretSeeding
    /// Where the installed stack reaches Ollama (default: the spec's `installer.ollama` for hosts,
    /// `container` for images, which carry their own).
    package var ollama: OllamaPlacement?
    /// Timestamp for entries added to an image's FileTree (SOURCE_DATE_EPOCH).
    package var mtime: Int64

    package init(
        mode: InstallMode, version: SemVer? = nil, channel: String? = nil, modelPack: String? = nil,
        releaseManifest: URL? = nil, unisonctlBinary: URL? = nil, specText: String? = nil,
        secrets: SecretSeeding? = nil, ollama: OllamaPlacement? = nil, mtime: Int64 = SourceDateEpoch.current()
    ) {
        self.mode = mode
        self.version = version
        self.channel = channel
        self.modelPack = modelPack
        self.releaseManifest = releaseManifest
        self.unisonctlBinary = unisonctlBinary
        self.specText = specText
        self.secrets = secrets ?? (mode == .image ? .atFirstBoot : .atInstall)
        self.ollama = ollama
        self.mtime = mtime
    }
}
