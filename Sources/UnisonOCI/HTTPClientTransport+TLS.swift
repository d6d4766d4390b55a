// TLS for `HTTPClientTransport`: which certificates a registry's connection trusts and presents,
// read from the `certs.d` layout Docker and containers/image (skopeo, podman) share, so a host
// already set up for a private registry needs nothing more for unisonctl; and the host name
// check NIOSSL leaves lenient.
import FoundationEssentials
import Glibc
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization
import UnisonCore

/// Per-registry TLS material in `certs.d` directories. For a registry at `HOST:PORT` the folder
/// `DIR/HOST:PORT` is read (`DIR/HOST` when the port is 443, `[ADDR]:PORT` for an IPv6
/// address) in each directory, in order:
///
/// - every `*.crt` file is a PEM CA certificate (or several) trusted for that registry only,
///   besides the system's roots;
/// - `NAME.cert` with its key `NAME.key` (PEM) is the client certificate presented to the
///   registry; a `.cert` without its `.key` is an error, as in Docker. The first pair found (by
///   directory, then name) is used.
///
/// Nothing there weakens verification: the chain and the host name (or IP address) are always
/// checked. Each file is at most `maximumFileSize` bytes.
package struct TLSTrust: Sendable, Hashable {
    package var directories: [String]

    package init(directories: [String]) { self.directories = directories }

    /// containers/image's and Docker's system-wide directories.
    package static let system = TLSTrust(directories: ["/etc/containers/certs.d", "/etc/docker/certs.d"])

    package static let maximumFileSize = 1 << 20

    /// What a connection to `host:port` trusts and presents: CA files, and the client
    /// certificate (`NAME.cert`, whose key is `NAME.key` beside it).
    struct Material: Hashable {
        var authorities: [String] = []
        var clientCertificate: String?

        /// The key of `clientCertificate`.
        var clientKey: String? { clientCertificate.map { Material.keyPath(ofCertificate: $0) } }

        /// `NAME.key` for `NAME.cert`.
        static func keyPath(ofCertificate path: String) -> String { String(path.dropLast(".cert".count)) + ".key" }
    }

    /// The folder name for an origin, nil when the host could name no folder of its own (a
    /// path separator, NUL, or nothing but dots).
    static func folderName(host: String, port: Int) -> String? {
        guard !host.isEmpty, !host.contains("/"), !host.contains("\0"), !host.allSatisfy({ $0 == "." }) else { return nil }
        let literal = host.contains(":") ? "[\(host)]" : host
        return port == 443 ? literal : "\(literal):\(port)"
    }

    /// The folders named for `host:port` that exist, in the directories' order.
    func folders(host: String, port: Int) -> [String] {
        guard let name = Self.folderName(host: host, port: port) else { return [] }
        return directories.map { $0 + "/" + name }.filter { folder in
            var isDirectory = false
            return FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory
        }
    }

    /// The files that apply to `host:port`; a folder that does not exist adds nothing.
    func material(host: String, port: Int) throws -> Material {
        var material = Material()
        for folder in folders(host: host, port: port) {
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            } catch {
                throw TransportError("TLS: cannot list \(folder): \(ErrorText.describe(error))", retryable: false)
            }
            for entry in entries where entry.hasSuffix(".crt") {
                material.authorities.append(folder + "/" + entry)
            }
            for entry in entries where entry.hasSuffix(".cert") {
                let key = Material.keyPath(ofCertificate: entry)
                guard entries.contains(key) else {
                    throw TransportError("TLS: client certificate \(folder)/\(entry) has no key \(folder)/\(key)", retryable: false)
                }
                if material.clientCertificate == nil { material.clientCertificate = folder + "/" + entry }
            }
        }
        return material
    }

    /// The bytes of one PEM file, refused past `maximumFileSize` (at most one byte more is read).
    static func readPEM(_ path: String) throws -> [UInt8] {
        let data: Data
        do {
            let file = try FileIO(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? file.close() }
            data = try file.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw TransportError("TLS: cannot read \(path): \(ErrorText.describe(error))", retryable: false)
        }
        guard data.count <= maximumFileSize else {
            throw TransportError("TLS: \(path) is larger than \(maximumFileSize) bytes; not a certificate or key", retryable: false)
        }
        return [UInt8](data)
    }

    /// The PEM certificates of one file (at least one).
    static func certificates(in path: String) throws -> [NIOSSLCertificate] {
        let pem = try readPEM(path)
        let found: [NIOSSLCertificate]
        do {
            found = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw TransportError("TLS: \(path) holds no PEM certificate (\(error))", retryable: false)
        }
        guard !found.isEmpty else { throw TransportError("TLS: \(path) holds no PEM certificate", retryable: false) }
        return found
    }

    /// A client TLS context for `material`: system roots plus its authorities, its client
    /// certificate, full verification.
    static func context(for material: Material) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["http/1.1"]
        var authorities: [NIOSSLCertificate] = []
        for path in material.authorities {
            authorities += try certificates(in: path)
        }
        if !authorities.isEmpty { configuration.additionalTrustRoots = [.certificates(authorities)] }
        if let certificate = material.clientCertificate, let key = material.clientKey {
            let chain = try certificates(in: certificate)
            configuration.certificateChain = chain.map { .certificate($0) }
            let pem = try readPEM(key)
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: pem, format: .pem))
            } catch {
                throw TransportError("TLS: \(key) holds no PEM private key (\(error))", retryable: false)
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TransportError("TLS: cannot use the certificates for this registry: \(error)", retryable: false)
        }
    }

    /// Words for a TLS failure during a connection to `origin`, with what to do about it, and
    /// whether it is one: a failed handshake or host name check is not retried (the same
    /// certificates give the same answer).
    static func failure(_ error: Error, origin: HTTPOrigin) -> TransportError? {
        let name = folderName(host: origin.host, port: origin.port) ?? origin.host
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            return TransportError("TLS: the certificate of \(name) is not issued for \(origin.host)", retryable: false)
        }
        guard let e = error as? NIOSSLError, case let .handshakeFailed(cause) = e else { return nil }
        let text = "\(cause)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return TransportError(
                "TLS: the certificate of \(name) is not trusted (its issuer is not among the system's roots nor in a certs.d "
                    + "folder for it, such as /etc/docker/certs.d/\(name)/ca.crt)", retryable: false)
        }
        return TransportError("TLS: handshake with \(name) failed: \(text)", retryable: false)
    }
}

/// One TLS context per distinct set of certificates (loading the system roots is not free),
/// made on first use for an origin; origins with nothing of their own share the plain one.
final class TLSContextCache: Sendable {
    private let trust: TLSTrust
    private let contexts = Mutex<[TLSTrust.Material: NIOSSLContext]>([:])
    private let byOrigin = Mutex<[HTTPOrigin: TLSTrust.Material]>([:])
    /// Whether an origin has a folder, asked once, so one run keeps one scheme per registry.
    private let hasFolders = Mutex<[HTTPOrigin: Bool]>([:])

    init(trust: TLSTrust) { self.trust = trust }

    func hasFolder(host: String, port: Int) -> Bool {
        let key = HTTPOrigin(tls: true, host: host, port: port)
        if let known = hasFolders.withLock({ $0[key] }) { return known }
        let found = !trust.folders(host: host, port: port).isEmpty
        return hasFolders.withLock { cached in
            if let other = cached[key] { return other }
            cached[key] = found
            return found
        }
    }

    func context(for origin: HTTPOrigin) throws -> NIOSSLContext {
        let material: TLSTrust.Material
        if let known = byOrigin.withLock({ $0[origin] }) {
            material = known
        } else {
            material = try trust.material(host: origin.host, port: origin.port)
            byOrigin.withLock { $0[origin] = material }
        }
        if let made = contexts.withLock({ $0[material] }) { return made }
        let made = try TLSTrust.context(for: material)
        return contexts.withLock { cached in
            if let other = cached[material] { return other }
            cached[material] = made
            return made
        }
    }
}

/// Connected by name, the certificate must name that host. NIOSSL accepts a certificate whose
/// IP address entry matches the address connected to even when the URL named a host, so a DNS
/// answer pointing a registry's name at a machine with a publicly trusted certificate for its
/// own address would pass. This handler, after NIOSSL's (which checked the chain and that some
/// entry matched), requires a dNSName entry equal to the host or a wildcard for its first label
/// (`*.example.com`), or, for a certificate without alternative names, NIOSSL's common name match.
final class PeerNameCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let host: String

    init(host: String) { self.host = host }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            if let certificate, !Self.names(certificate, host: host) {
                context.fireErrorCaught(
                    TransportError("TLS: the certificate of \(host) does not name \(host) (only IP addresses or other names)", retryable: false))
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Whether `certificate` names `host` by a dNSName entry; true when it has no alternative
    /// names at all (NIOSSL then matched the common name against the host, never an address).
    static func names(_ certificate: NIOSSLCertificate, host: String) -> Bool {
        var dnsNames: [String] = []
        var any = false
        for entry in certificate._subjectAlternativeNames() {
            any = true
            guard entry.nameType == .dnsName else { continue }
            dnsNames.append(entry.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) })
        }
        return !any || dnsNames.contains { matches(dnsName: $0, host: host) }
    }

    /// RFC 6125 section 6.4: case-insensitive, a trailing dot ignored, a wildcard only as the
    /// whole first label and never over a bare public suffix (`*.com`).
    static func matches(dnsName: String, host: String) -> Bool {
        func normal(_ s: String) -> String { (s.hasSuffix(".") ? String(s.dropLast()) : s).lowercased() }
        let name = normal(dnsName)
        let target = normal(host)
        if name == target { return true }
        guard name.hasPrefix("*."), let dot = target.firstIndex(of: ".") else { return false }
        let rest = name.dropFirst(2)
        return rest.contains(".") && target[..<dot].count > 0 && target[target.index(after: dot)...] == rest
    }
}
