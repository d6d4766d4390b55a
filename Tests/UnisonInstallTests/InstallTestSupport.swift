import Foundation
import Testing
import UnisonCore
import UnisonSpec
import UnisonTestSupport

@testable import UnisonInstall

/// Shared helpers: the repository's spec, temporary roots, running tools.
enum Fixture {
    static let repoRoot = Unisonctl.repoRoot

    static func spec() throws -> PlatformSpec {
        try SpecLoader.load(file: repoRoot.appendingPathComponent("unison.yaml"))
    }

    static func specText() throws -> String {
        try String(contentsOf: repoRoot.appendingPathComponent("unison.yaml"), encoding: .utf8)
    }

    static func tempDir(_ label: String) throws -> URL { try TempDir.create("install-\(label)") }

    /// A stand-in for the unisonctl binary (any executable file will do for the copy).
    static func fakeBinary(in dir: URL, text: String = "#!/bin/sh\necho fake unisonctl\n") throws -> URL {
        try RootFiles.fakeBinary(in: dir, text: text)
    }

    static func run(_ args: [String], env: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
        try SystemProcessRunner().run(args, environment: env, input: nil, workingDirectory: cwd)
    }

    /// Every path below `root` with its type, mode, size and mtime (nanoseconds), sorted.
    static func snapshot(_ root: URL) throws -> [String: String] { try RootFiles.snapshot(root) }

    static func read(_ root: URL, _ path: String) throws -> String {
        try String(contentsOf: URL(fileURLWithPath: root.path + path), encoding: .utf8)
    }

    static func mode(_ root: URL, _ path: String) -> UInt32 { RootFiles.mode(root, path) }

    static func exists(_ root: URL, _ path: String) -> Bool {
        var st = stat()
        return lstat(root.path + path, &st) == 0
    }

    /// Plans and applies a host install of the repository spec into `root`.
    @discardableResult
    static func install(
        into root: URL, mode: InstallMode = .native, spec: PlatformSpec? = nil, binary: URL? = nil,
        modelPack: String? = nil, version: SemVer? = nil, manifest: URL? = nil
    ) throws -> InstallReport {
        let plan = try InstallPlan.make(
            spec: spec ?? Fixture.spec(),
            options: InstallOptions(
                mode: mode, version: version, modelPack: modelPack, releaseManifest: manifest,
                unisonctlBinary: binary, specText: try specText()))
        var host = try HostRoot(root)
        return try plan.apply(to: &host)
    }
}

/// `Secret` has no public memberwise initializer; it is Codable.
func makeSecret(_ name: String, _ bytes: Int) -> Secret {
    try! JSONDecoder().decode(Secret.self, from: Data(#"{"name":"\#(name)","bytes":\#(bytes)}"#.utf8))
}
