import FoundationEssentials
import Glibc
import UnisonInstall
import UnisonSpec

extension FirstBoot {
    /// Creates each file secret a service mounts that does not exist yet (images leave them to
    /// first boot so that every machine gets its own): the keys directory with mode 0700, then
    /// each file created exclusively with its final mode and owner, never rewritten. Returns the
    /// paths it created.
    func seedFileSecrets() throws -> [String] {
        let mounted = Set(spec.allServices.flatMap(\.secrets))
        let secrets = spec.installer.fileSecrets.filter { mounted.contains($0.name) }
        guard !secrets.isEmpty else { return [] }
        let dir = hostPath(spec.installer.keysDir)
        if !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        var created: [String] = []
        var rng = SystemRandomNumberGenerator()
        for secret in secrets {
            let path = hostPath(spec.installer.path(of: secret))
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(secret.mode))
            if fd < 0 {
                if errno == EEXIST { continue }
                throw FileSecretError(path: path, reason: String(cString: strerror(errno)))
            }
            defer { Glibc.close(fd) }
            // The mode is final from creation; fchmod only undoes the umask.
            guard fchmod(fd, mode_t(secret.mode)) == 0 else { throw FileSecretError(path: path, reason: String(cString: strerror(errno))) }
            if fchown(fd, secret.uid, secret.gid) != 0, geteuid() == 0 {
                throw FileSecretError(path: path, reason: String(cString: strerror(errno)))
            }
            let bytes = Array(EnvFile.generateSecret(bytes: secret.bytes, using: &rng).utf8)
            var done = 0
            while done < bytes.count {
                let n = bytes[done...].withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSecretError(path: path, reason: String(cString: strerror(errno)))
                }
                done += n
            }
            created.append(spec.installer.path(of: secret))
        }
        return created
    }
}

/// A file secret that could not be created.
struct FileSecretError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot create the file secret \(path): \(reason)" }
}
