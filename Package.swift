// swift-tools-version:6.1
// unisonctl — the UnisonOS distribution toolchain. Module map and dependency rules: docs/architecture.md.
import PackageDescription

let package = Package(
    name: "unisonctl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "unisonctl", targets: ["unisonctl"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries (Debian: zlib1g-dev, libzstd-dev, liblzma-dev, libdeflate-dev, libyaml-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        // libdeflate is linked statically (see UnisonArchive's linker settings): the images' base
        // and most hosts have no libdeflate.so, and unisonctl must run there.
        .systemLibrary(name: "CLibdeflate", path: "Sources/CLibdeflate"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd"),
        .systemLibrary(name: "CLzma", path: "Sources/CLzma", pkgConfig: "liblzma"),
        // libyaml, linked statically like libdeflate (UnisonYAML's linker settings).
        .systemLibrary(name: "CYAML", path: "Sources/CYAML"),

        // posix_spawn's chdir file action, which Swift's Glibc module does not export.
        .target(name: "CSpawn"),
        // SHA-256/512 and Ed25519 over the BoringSSL swift-nio-ssl links (CNIOBoringSSL, reached
        // through the NIOSSL product), so the binary carries one BoringSSL.
        .target(name: "UnisonCrypto", dependencies: [.product(name: "NIOSSL", package: "swift-nio-ssl")]),
        // Leaf: processes, progress, clocks, atomic files, hashing, JSON.
        .target(name: "UnisonCore", dependencies: ["CSpawn", "UnisonCrypto"]),
        // YAML composed over libyaml into a node tree with marks (leaf; no Foundation).
        .target(name: "UnisonYAML", dependencies: ["CYAML"], linkerSettings: [.linkedLibrary(":libyaml.a")]),
        .target(name: "UnisonSpec", dependencies: ["UnisonCore", "UnisonYAML"]),
        // docker/metadata-action's tag and label rules, reproduced to the action's own cases (leaf).
        .target(name: "UnisonMetadataAction", dependencies: ["UnisonCore"]),
        .target(name: "UnisonRelease", dependencies: ["UnisonCore", "UnisonSpec", "UnisonMetadataAction"]),
        .target(
            name: "UnisonOCI",
            dependencies: [
                "UnisonCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "UnisonCrypto",
            ]),
        // FileTree, tar, gzip/zstd/xz: format code with no network and no spec.
        .target(
            name: "UnisonArchive", dependencies: ["UnisonCore", "CZlib", "CLibdeflate", "CZstd", "CLzma"],
            linkerSettings: [.linkedLibrary(":libdeflate.a")]),
        // Release publishing: digest resolution and promotion (release policy over the registry client).
        .target(name: "UnisonPublish", dependencies: ["UnisonCore", "UnisonSpec", "UnisonRelease", "UnisonOCI"]),
        // SPDX SBOMs, in-toto/SLSA provenance, SSH signatures (sshsig), release verification, referrers.
        .target(
            name: "UnisonAttest",
            dependencies: [
                "UnisonCore", "UnisonRelease", "UnisonOCI", "UnisonArchive",
                "UnisonCrypto",
            ]),
        // GPT, FAT32, ext4 (via mke2fs for now), raw/qcow2/vmdk encoders.
        .target(name: "UnisonDisk", dependencies: ["UnisonCore", "UnisonArchive", "CZlib", "CLibdeflate"]),
        .target(name: "UnisonInstall", dependencies: ["UnisonCore", "UnisonSpec", "UnisonRelease", "UnisonArchive"]),
        .target(
            name: "UnisonImage",
            dependencies: [
                "UnisonCore", "UnisonSpec", "UnisonOCI", "UnisonArchive", "UnisonDisk", "UnisonInstall", "UnisonAttest",
            ]),
        .target(name: "UnisonOps", dependencies: ["UnisonCore", "UnisonSpec", "UnisonRelease", "UnisonInstall", "UnisonOCI", "UnisonArchive"]),
        .target(name: "UnisonQA", dependencies: ["UnisonCore", "UnisonSpec"]),
        .target(name: "UnisonWorkspace", dependencies: ["UnisonCore", "UnisonSpec", "UnisonRelease"]),
        // The version from git (scripts/version.sh), stamped before every build; only the executable imports it.
        .target(name: "UnisonBuildInfo", plugins: ["VersionStamp"]),
        .plugin(name: "VersionStamp", capability: .buildTool()),

        .executableTarget(
            name: "unisonctl",
            dependencies: [
                "UnisonCore", "UnisonSpec", "UnisonRelease", "UnisonOCI", "UnisonArchive", "UnisonDisk",
                "UnisonInstall", "UnisonImage", "UnisonOps", "UnisonQA", "UnisonWorkspace", "UnisonBuildInfo", "UnisonAttest",
                "UnisonMetadataAction", "UnisonPublish",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests: each target declares what it imports. UnisonTestSupport holds what they share
        // (the tier tags, running unisonctl, temporary directories, child servers).
        .target(
            name: "UnisonTestSupport",
            dependencies: [
                "UnisonCore", "UnisonSpec", "UnisonWorkspace", "UnisonArchive", "UnisonAttest", "UnisonOCI", "UnisonInstall",
                "UnisonOps", "UnisonImage",
            ],
            path: "Tests/UnisonTestSupport", exclude: ["Fixtures"]),
        .testTarget(name: "UnisonCryptoTests", dependencies: ["UnisonCrypto", "UnisonTestSupport"]),
        .testTarget(name: "UnisonCoreTests", dependencies: ["UnisonCore", "UnisonTestSupport"]),
        .testTarget(name: "UnisonYAMLTests", dependencies: ["UnisonYAML", "UnisonTestSupport"]),
        .testTarget(name: "UnisonSpecTests", dependencies: ["UnisonSpec", "UnisonCore", "UnisonTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "UnisonReleaseTests", dependencies: ["UnisonRelease", "UnisonCore", "UnisonSpec", "UnisonTestSupport"]),
        .testTarget(name: "UnisonMetadataActionTests", dependencies: ["UnisonMetadataAction", "UnisonCore", "UnisonTestSupport"]),
        .testTarget(name: "UnisonPublishTests", dependencies: ["UnisonPublish", "UnisonOCI", "UnisonSpec", "UnisonCore", "UnisonTestSupport"]),
        .testTarget(
            name: "UnisonOCITests",
            dependencies: [
                "UnisonOCI", "UnisonCore", "UnisonPublish", "UnisonTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(name: "UnisonArchiveTests", dependencies: ["UnisonArchive", "UnisonCore", "UnisonTestSupport"]),
        .testTarget(
            name: "UnisonAttestTests",
            dependencies: [
                "UnisonAttest", "UnisonCore", "UnisonArchive", "UnisonOCI", "UnisonRelease", "UnisonTestSupport",
            ], exclude: ["Schemas"]),
        .testTarget(name: "UnisonDiskTests", dependencies: ["UnisonDisk", "UnisonCore", "UnisonArchive", "UnisonTestSupport"]),
        .testTarget(
            name: "UnisonInstallTests",
            dependencies: [
                "UnisonInstall", "UnisonCore", "UnisonSpec", "UnisonArchive", "UnisonTestSupport",
            ]),
        .testTarget(
            name: "UnisonImageTests",
            dependencies: [
                "UnisonImage", "UnisonCore", "UnisonArchive", "UnisonDisk", "UnisonTestSupport",
            ]),
        .testTarget(
            name: "UnisonOpsTests", dependencies: ["UnisonOps", "UnisonCore", "UnisonSpec", "UnisonInstall", "UnisonTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "UnisonQATests", dependencies: ["UnisonQA", "UnisonCore", "UnisonSpec", "UnisonTestSupport"]),
        .testTarget(
            name: "UnisonWorkspaceTests",
            dependencies: [
                "UnisonWorkspace", "UnisonCore", "UnisonSpec", "UnisonRelease", "UnisonTestSupport",
            ]),
        .testTarget(
            name: "UnisonCLITests",
            dependencies: [
                "UnisonCore", "UnisonRelease", "UnisonInstall", "UnisonOps", "UnisonQA", "UnisonSpec", "UnisonWorkspace", "UnisonAttest",
                "UnisonOCI", "UnisonPublish", "UnisonImage", "UnisonArchive", "UnisonDisk", "UnisonTestSupport",
            ],
            exclude: ["Golden"]),
    ]
)

// Shipped modules see only the members of the modules they import themselves (SE-0444). Without
// this a full-Foundation method (`caseInsensitiveCompare`, `range(of:options:)`) compiles in a
// module that imports only FoundationEssentials, because a dependency imports
// Foundation; the linker then pulls in CoreFoundation and ICU (docs/performance.md).
for target in package.targets
where (target.type == .regular && target.name.hasPrefix("Unison") && target.name != "UnisonTestSupport") || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}

// Nor do they see the standard library's `_StringProcessing` (Regex and the collection algorithms
// `firstRange(of:)`, `replacing(_:with:)`, `split(separator:)` on collections): its first use links
// it and the regex parser whole (1.4 MB). UnisonCore has the literal-search helpers and `Pattern`.
for target in package.targets
where ((target.type == .regular && target.name.hasPrefix("Unison") && target.name != "UnisonTestSupport") || target.type == .executable) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"])]
}

// Release builds optimize for size where speed is not at stake (docs/performance.md, "Binary
// size"): the command layer, specs, release logic, registry protocol and image orchestration.
// The modules with the hot loops (hashing, tar and gzip, the disk encoders and ext4, the text
// and YAML primitives every command runs through) keep `-O`.
let speedCritical: Set<String> = ["UnisonCore", "UnisonCrypto", "UnisonArchive", "UnisonDisk", "UnisonYAML"]
for target in package.targets
where ((target.type == .regular && target.name.hasPrefix("Unison") && target.name != "UnisonTestSupport") || target.type == .executable)
    && !speedCritical.contains(target.name)
{
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Osize"], .when(configuration: .release))]
}
