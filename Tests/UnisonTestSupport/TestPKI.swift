// A throwaway certificate authority for tests of TLS against real servers on 127.0.0.1.
import Foundation

/// A throwaway PKI under one directory: a server CA and a server certificate for
/// `serverNames` (subjectAltName syntax; IP 127.0.0.1 only by default), and a client CA with a
/// client certificate.
package struct TestPKI {
    package let dir: URL
    package var serverCA: String { dir.appendingPathComponent("server-ca.crt").path }
    package var serverCertificate: String { dir.appendingPathComponent("server.crt").path }
    package var serverKey: String { dir.appendingPathComponent("server.key").path }
    package var clientCA: String { dir.appendingPathComponent("client-ca.crt").path }
    package var clientCertificate: String { dir.appendingPathComponent("client.crt").path }
    package var clientKey: String { dir.appendingPathComponent("client.key").path }

    /// Makes `dir` (with its parents) when missing.
    package init(in dir: URL, serverNames: String = "IP:127.0.0.1") throws {
        self.dir = dir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func openssl(_ arguments: [String]) throws { try TestProcess.run(["openssl"] + arguments, cwd: dir) }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["server-ca", "client-ca"] {
            try openssl(
                ["req", "-x509"] + ec + [
                    "-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2", "-subj", "/CN=unisonctl test \(ca)",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ])
        }
        try Data("subjectAltName=\(serverNames)\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n".utf8)
            .write(to: dir.appendingPathComponent("server.ext"))
        try Data("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n".utf8).write(to: dir.appendingPathComponent("client.ext"))
        for (leaf, ca) in [("server", "server-ca"), ("client", "client-ca")] {
            try openssl(["req"] + ec + ["-keyout", "\(leaf).key", "-out", "\(leaf).csr", "-subj", "/CN=unisonctl test \(leaf)"])
            try openssl([
                "x509", "-req", "-in", "\(leaf).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-CAcreateserial",
                "-out", "\(leaf).crt", "-days", "2", "-extfile", "\(leaf).ext",
            ])
        }
    }

    /// `certs.d/<folder>/` holding copies of `files` (name in the folder, source path).
    package func certsD(_ name: String, folder: String, _ files: [(String, String)]) throws -> String {
        let root = dir.appendingPathComponent(name)
        let target = root.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for (file, source) in files {
            try FileManager.default.copyItem(atPath: source, toPath: target.appendingPathComponent(file).path)
        }
        return root.path
    }
}
