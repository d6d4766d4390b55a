import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonRelease

/// SemVer 2.0.0 (semver.org): the grammar's valid and invalid examples, §11 precedence,
/// and the bumps and pre-release increments the release engine builds on them.
@Suite(.tags(.unit))
struct SemVerTests {
    static let valid = [
        "0.0.4", "1.2.3", "10.20.30", "1.1.2-prerelease+meta", "1.1.2+meta", "1.1.2+meta-valid", "1.0.0-alpha",
        "1.0.0-beta", "1.0.0-alpha.beta", "1.0.0-alpha.beta.1", "1.0.0-alpha.1", "1.0.0-alpha0.valid",
        "1.0.0-alpha.0valid", "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", "1.0.0-rc.1+build.1",
        "2.0.0-rc.1+build.123", "1.2.3-beta", "10.2.3-DEV-SNAPSHOT", "1.2.3-SNAPSHOT-123", "1.0.0", "2.0.0", "1.1.7",
        "2.0.0+build.1848", "2.0.1-alpha.1227", "1.0.0-alpha+beta", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
        "1.2.3----R-S.12.9.1--.12+meta", "1.2.3----RC-SNAPSHOT.12.9.1--.12", "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
        "1.0.0-0A.is.legal", "v1.2.3", "v0.5.0-beta.3",
    ]

    static let invalid = [
        "1", "1.2", "1.2.3-0123", "1.2.3-0123.0123", "1.1.2+.123", "+invalid", "-invalid", "-invalid+invalid",
        "-invalid.01", "alpha", "alpha.beta", "alpha.beta.1", "alpha.1", "alpha+beta", "alpha_beta", "alpha.",
        "alpha..", "beta", "1.0.0-alpha_beta", "-alpha.", "1.0.0-alpha..", "1.0.0-alpha..1", "1.0.0-alpha...1",
        "1.0.0-alpha....1", "1.0.0-alpha.....1", "1.0.0-alpha......1", "1.0.0-alpha.......1", "01.1.1", "1.01.1",
        "1.1.01", "1.2", "1.2.3.DEV", "1.2-SNAPSHOT", "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788", "1.2-RC-SNAPSHOT",
        "-1.0.3-gamma+b7718", "+justmeta", "9.8.7+meta+meta", "9.8.7-whatever+meta+meta", "1.2.3-", "1.2.3+", "",
        "vv1.2.3", " 1.2.3",
    ]

    @Test(arguments: valid)
    func parsesValidVersions(_ text: String) throws {
        let v = try #require(SemVer(text))
        // Printing gives back what was parsed (the `v` kept for tags).
        #expect(v.tagString() == text)
    }

    @Test(arguments: invalid)
    func rejectsInvalidVersions(_ text: String) {
        #expect(SemVer(text) == nil)
    }

    /// §11.4's example chain, then the major/minor/patch chain of §11.2.
    @Test func precedenceFollowsTheSpec() throws {
        let chain = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1",
        ]
        let versions = try chain.map { try #require(SemVer($0)) }
        for (a, b) in zip(versions, versions.dropFirst()) {
            #expect(a < b, "\(a) < \(b)")
            #expect(!(b < a), "not \(b) < \(a)")
        }
        #expect(versions.shuffled().sorted() == versions)
    }

    @Test(arguments: [
        ("1.0.0+build.1", "1.0.0+build.2", true),
        ("1.0.0+zzz", "1.0.0", true),
        ("v1.0.0", "1.0.0", true),
        ("1.0.0-beta.1+x", "1.0.0-beta.1", true),
        ("1.0.0-beta.1", "1.0.0-beta.01x", false),
        ("1.0.0-2", "1.0.0-10", false),
    ])
    func buildMetadataAndPrefixDoNotCount(_ a: String, _ b: String, _ same: Bool) throws {
        #expect(try #require(SemVer(a)).hasSamePrecedence(as: try #require(SemVer(b))) == same)
    }

    @Test func numericIdentifiersSortBeforeAlphanumeric() throws {
        #expect(try #require(SemVer("1.0.0-2")) < #require(SemVer("1.0.0-10")))
        #expect(try #require(SemVer("1.0.0-10")) < #require(SemVer("1.0.0-a")))
        #expect(try #require(SemVer("1.0.0-Z")) < #require(SemVer("1.0.0-a")))  // ASCII order
    }

    @Test(arguments: [
        ("1.2.3", VersionBump.patch, "1.2.4"),
        ("1.2.3", .minor, "1.3.0"),
        ("1.2.3", .major, "2.0.0"),
        ("v0.5.0", .minor, "v0.6.0"),
        ("v1.2.3+build.9", .patch, "v1.2.4"),
        ("1.2.3", .none, "1.2.3"),
        ("1.3.0-beta.2", .minor, "1.3.0"),
        ("1.3.1-beta.2", .minor, "1.4.0"),
        ("2.0.0-rc.1", .major, "2.0.0"),
        ("2.1.0-rc.1", .major, "3.0.0"),
        ("1.2.4-beta", .patch, "1.2.4"),
        ("1.2.4-beta", .none, "1.2.4"),
    ])
    func bumps(_ from: String, _ bump: VersionBump, _ expected: String) throws {
        #expect(try #require(SemVer(from)).bumped(bump).tagString() == expected)
    }

    @Test(arguments: [
        ("1.0.0-beta.1", "1.0.0-beta.2"),
        ("1.0.0-beta", "1.0.0-beta.1"),
        ("v0.5.0-beta.9", "v0.5.0-beta.10"),
        ("1.0.0-rc.1.5", "1.0.0-rc.1.6"),
        ("1.0.0-alpha.1.x", "1.0.0-alpha.2.x"),
        ("1.0.0-0", "1.0.0-1"),
        ("1.2.3", "1.2.4-beta.1"),
        ("1.0.0-beta.1+exp", "1.0.0-beta.2"),
    ])
    func prereleaseIncrements(_ from: String, _ expected: String) throws {
        let next = try #require(SemVer(from)).nextPrerelease()
        #expect(next.tagString() == expected)
        #expect(try #require(SemVer(from)) < next)
    }

    @Test func prereleaseNumberReadsLabelDotN() throws {
        #expect(try #require(SemVer("v0.5.0-beta.7")).prereleaseNumber(label: "beta") == 7)
        #expect(try #require(SemVer("v0.5.0-rc.7")).prereleaseNumber(label: "beta") == nil)
        #expect(try #require(SemVer("v0.5.0-beta")).prereleaseNumber(label: "beta") == nil)
        #expect(try #require(SemVer("0.5.0")).withPrerelease("beta", 4).tagString(forceV: true) == "v0.5.0-beta.4")
    }
}
