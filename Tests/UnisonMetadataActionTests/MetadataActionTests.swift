import Foundation
import Testing
import UnisonCore
import UnisonTestSupport

@testable import UnisonMetadataAction

/// docker/metadata-action's behaviours, as its own tests (`__tests__/meta.test.ts` and the
/// event fixtures) and README document them: for each event and inputs, the version, the tag
/// list in order, and `latest`.
@Suite(.tags(.unit))
struct MetadataActionTests {
    static let sha = "860c1904a1ce19322e91ac35af1ab07466440c37"
    static let masterSHA = "266574110acf203503badf966df2ea24b5d732d7"
    static let now = Date(timeIntervalSince1970: 1_578_616_200)  // 2020-01-10T00:30:00Z

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var event = "push"
        var ref: String
        var sha = MetadataActionTests.sha
        var payloadDefaultBranch: String? = "master"
        var baseRef: String? = nil
        var shortSHALength = 7
        var images = ["user/app"]
        var tags: [String] = []
        var flavor: [String] = []
        var main: String?
        var partial: [String] = []
        var latest = false
        var expected: [String]
        var testDescription: String { name }
    }

    static let repository = MetadataRepository(
        name: "unison-auth", description: "Auth service", url: "https://github.com/project-unisonos/unison-auth",
        license: "Apache-2.0", defaultBranch: "master")

    static func run(_ c: Case) throws -> MetadataResult {
        let context = MetadataContext(
            eventName: c.event, ref: c.ref, sha: c.sha, date: now, payloadDefaultBranch: c.payloadDefaultBranch,
            baseRef: c.baseRef, pullRequestBaseRef: c.baseRef, shortSHALength: c.shortSHALength)
        return try MetadataAction(
            inputs: MetadataInputs(images: c.images, tags: c.tags, flavor: c.flavor),
            context: context, repository: repository
        ).evaluate()
    }

    static let cases: [Case] = [
        // Default rules (schedule, ref branch/tag/pr).
        Case(name: "branch push, default rules", ref: "refs/heads/dev", main: "dev", expected: ["user/app:dev"]),
        Case(name: "default branch push, default rules", ref: "refs/heads/master", sha: masterSHA, main: "master", expected: ["user/app:master"]),
        Case(
            name: "tag push, default rules: the tag and latest", ref: "refs/tags/sometag", main: "sometag", latest: true,
            expected: ["user/app:sometag", "user/app:latest"]),
        Case(name: "pull request, default rules", event: "pull_request", ref: "refs/pull/15/merge", main: "pr-15", expected: ["user/app:pr-15"]),
        Case(
            name: "no event at all", event: "", ref: "", sha: "", payloadDefaultBranch: nil, tags: ["type=sha", "type=raw,{{branch}}"],
            main: nil, expected: []),
        // type=edge
        Case(
            name: "edge on the repository's default branch", ref: "refs/heads/master", tags: ["type=edge"], main: "edge", expected: ["user/app:edge"]),
        Case(
            name: "edge on workflow_dispatch", event: "workflow_dispatch", ref: "refs/heads/master", tags: ["type=edge"], main: "edge",
            expected: ["user/app:edge"]),
        Case(name: "edge with branch=dev", ref: "refs/heads/dev", tags: ["type=edge,branch=dev"], main: "edge", expected: ["user/app:edge"]),
        Case(name: "edge elsewhere gives nothing", ref: "refs/heads/dev", tags: ["type=edge"], main: nil, expected: []),
        // type=semver
        Case(
            name: "semver partials and latest", ref: "refs/tags/v1.1.1",
            tags: ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}", "type=semver,pattern={{major}}"],
            main: "1.1.1", partial: ["1.1", "1"], latest: true, expected: ["user/app:1.1.1", "user/app:1.1", "user/app:1", "user/app:latest"]),
        Case(
            name: "semver patterns keep literal text", ref: "refs/tags/v1.2.3",
            tags: [
                "type=semver,pattern=v{{major}}", "type=semver,pattern={{raw}}", "type=semver,pattern={{minor}}", "type=semver,pattern={{patch}}",
            ],
            main: "v1", partial: ["v1.2.3", "2", "3"], latest: true,
            expected: ["user/app:v1", "user/app:v1.2.3", "user/app:2", "user/app:3", "user/app:latest"]),
        Case(
            name: "pre-release: only {{version}}, no latest", ref: "refs/tags/v2.0.8-beta.67",
            tags: ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}", "type=semver,pattern={{major}}"],
            main: "2.0.8-beta.67", expected: ["user/app:2.0.8-beta.67"]),
        Case(
            name: "pre-release keeps {{raw}} when it is the whole pattern", ref: "refs/tags/v2.0.8-beta.67",
            tags: ["type=semver,pattern={{raw}}", "type=semver,pattern=v{{major}}"],
            main: "v2.0.8-beta.67", partial: ["2.0.8-beta.67"], expected: ["user/app:v2.0.8-beta.67", "user/app:2.0.8-beta.67"]),
        Case(
            name: "pre-release with prefix=v", ref: "refs/tags/v0.5.0-beta.3", tags: ["type=semver,pattern={{version}},prefix=v"],
            main: "v0.5.0-beta.3", expected: ["user/app:v0.5.0-beta.3"]),
        Case(
            name: "build metadata is dropped by {{version}}", ref: "refs/tags/v1.2.3+build.7", tags: ["type=semver,pattern={{version}}"],
            main: "1.2.3", latest: true, expected: ["user/app:1.2.3", "user/app:latest"]),
        Case(
            name: "a tag that is not semver gives nothing", ref: "refs/tags/sometag", tags: ["type=semver,pattern={{version}}"],
            main: nil, expected: []),
        Case(
            name: "upper-case V is not semver for the action", ref: "refs/tags/V1.0.0", tags: ["type=semver,pattern={{version}}"],
            main: nil, expected: []),
        Case(
            name: "semver value= replaces the git tag", ref: "refs/heads/dev", tags: ["type=semver,pattern={{version}},value=v3.1.4"],
            main: "3.1.4", latest: true, expected: ["user/app:3.1.4", "user/app:latest"]),
        Case(
            name: "semver match= picks group 1", ref: "refs/tags/p1/v1.0.0",
            tags: ["type=semver,pattern={{version}},match=v(\\d.\\d.\\d)$"], main: "1.0.0", latest: true,
            expected: ["user/app:1.0.0", "user/app:latest"]),
        Case(
            name: "slashes become dashes before semver parsing", ref: "refs/tags/p1/v1.0.0", tags: ["type=semver,pattern={{version}}"],
            main: nil, expected: []),
        // type=match (README table)
        Case(
            name: "match group 0", ref: "refs/tags/v1.2.3", tags: ["type=match,pattern=\\d.\\d.\\d"], main: "1.2.3", latest: true,
            expected: ["user/app:1.2.3", "user/app:latest"]),
        Case(
            name: "match group 1 of a pre-release", ref: "refs/tags/v2.0.8-beta.67", tags: ["type=match,pattern=v(.*),group=1"],
            main: "2.0.8-beta.67", latest: true, expected: ["user/app:2.0.8-beta.67", "user/app:latest"]),
        Case(
            name: "match v(\\d.\\d)", ref: "refs/tags/v2.0.8-beta.67", tags: ["type=match,pattern=v(\\d.\\d),group=1"],
            main: "2.0", latest: true, expected: ["user/app:2.0", "user/app:latest"]),
        Case(
            name: "match digits", ref: "refs/tags/20200110-RC2", tags: ["type=match,pattern=\\d+"], main: "20200110", latest: true,
            expected: ["user/app:20200110", "user/app:latest"]),
        Case(
            name: "match /regex/flags", ref: "refs/tags/v1.2.3", tags: ["type=match,pattern=/V(\\d)/i,group=1"], main: "1", latest: true,
            expected: ["user/app:1", "user/app:latest"]),
        Case(
            name: "match: a group that does not exist", ref: "refs/tags/v1.2.3", tags: ["type=match,pattern=v(\\d),group=2"],
            main: nil, expected: []),
        // type=ref
        Case(
            name: "ref branch is sanitized", ref: "refs/heads/my/feature#1245", tags: ["type=ref,event=branch"],
            main: "my-feature-1245", expected: ["user/app:my-feature-1245"]),
        Case(
            name: "pr with empty prefix and a flavor", event: "pull_request", ref: "refs/pull/15/merge",
            tags: ["type=ref,event=pr,prefix="], flavor: ["prefix=glo-", "suffix=-bal"], main: "15-bal", expected: ["user/app:15-bal"]),
        Case(
            name: "ref rules for a pr", event: "pull_request", ref: "refs/pull/15/merge",
            tags: ["type=ref,event=tag", "type=ref,event=pr", "type=ref,event=branch", "type=sha", "type=sha,format=long"],
            main: "pr-15", partial: ["sha-860c190", "sha-\(sha)"],
            expected: ["user/app:pr-15", "user/app:sha-860c190", "user/app:sha-\(sha)"]),
        // type=sha
        Case(
            name: "short and long sha", ref: "refs/heads/master", sha: masterSHA, tags: ["type=sha", "type=sha,format=long,prefix="],
            main: "sha-2665741", partial: [masterSHA], expected: ["user/app:sha-2665741", "user/app:\(masterSHA)"]),
        Case(
            name: "short sha length from DOCKER_METADATA_SHORT_SHA_LENGTH", ref: "refs/heads/master", sha: masterSHA, shortSHALength: 12,
            tags: ["type=sha"], main: "sha-266574110acf", expected: ["user/app:sha-266574110acf"]),
        Case(
            name: "sha before a higher priority", ref: "refs/heads/dev", tags: ["type=sha,priority=2000", "type=ref,event=branch"],
            main: "sha-860c190", partial: ["dev"], expected: ["user/app:sha-860c190", "user/app:dev"]),
        // type=schedule
        Case(
            name: "schedule default pattern", event: "schedule", ref: "refs/heads/master", payloadDefaultBranch: nil,
            tags: ["type=schedule"], main: "nightly", expected: ["user/app:nightly"]),
        Case(
            name: "schedule with a date in a time zone", event: "schedule", ref: "refs/heads/master", payloadDefaultBranch: nil,
            tags: ["type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}"], main: "20200110-093000",
            expected: ["user/app:20200110-093000"]),
        Case(name: "schedule rules do nothing on push", ref: "refs/heads/master", tags: ["type=schedule"], main: nil, expected: []),
        // type=raw and expressions
        Case(
            name: "raw with {{is_default_branch}}", ref: "refs/heads/master", tags: ["type=raw,value=latest,enable={{is_default_branch}}"],
            main: "latest", expected: ["user/app:latest"]),
        Case(
            name: "raw disabled off the default branch", ref: "refs/heads/dev", tags: ["type=raw,value=latest,enable={{is_default_branch}}"],
            main: nil, expected: []),
        Case(
            name: "schedule events count as the default branch", event: "schedule", ref: "refs/heads/master", payloadDefaultBranch: nil,
            tags: ["type=raw,value=edge-main,enable={{is_default_branch}}", "type=raw,value=n,enable={{is_not_default_branch}}"],
            main: "edge-main", expected: ["user/app:edge-main"]),
        Case(
            name: "global expressions in raw values", ref: "refs/heads/master",
            tags: [
                "type=raw,value=mytag-{{branch}}", "type=raw,value=mytag-{{date 'YYYYMMDD'}}", "type=raw,value=mytag-tag-{{tag}}",
                "type=raw,value=mytag-{{sha}}", "type=raw,value=mytag-baseref-{{base_ref}}",
            ],
            main: "mytag-master", partial: ["mytag-20200110", "mytag-tag-", "mytag-860c190", "mytag-baseref-"],
            expected: [
                "user/app:mytag-master", "user/app:mytag-20200110", "user/app:mytag-tag-", "user/app:mytag-860c190", "user/app:mytag-baseref-",
            ]),
        Case(
            name: "base_ref of a tag push", ref: "refs/tags/v1.1.1", baseRef: "refs/heads/master", tags: ["type=raw,value=from-{{base_ref}}"],
            main: "from-master", expected: ["user/app:from-master"]),
        Case(
            name: "bare values are raw rules", ref: "refs/heads/dev", tags: ["foo", "bar"], main: "foo", partial: ["bar"],
            expected: ["user/app:foo", "user/app:bar"]),
        Case(
            name: "duplicates collapse", ref: "refs/heads/dev",
            tags: ["type=raw,value=dup", "type=raw,value=other", "type=raw,value=dup", "type=raw,value=other"],
            main: "dup", partial: ["other"], expected: ["user/app:dup", "user/app:other"]),
        Case(
            name: "expression output is HTML-escaped, then sanitized", ref: "refs/heads/it's",
            tags: ["type=raw,value={{branch}}", "type=raw,value={{{branch}}}"],
            main: "it-x27-s", partial: ["it-s"], expected: ["user/app:it-x27-s", "user/app:it-s"]),
        // Priorities and flavor
        Case(
            name: "priorities order the tags", ref: "refs/heads/dev",
            tags: ["type=raw,value=foo", "type=sha", "type=ref,event=branch", "type=raw,value=bar,priority=1000"],
            main: "bar", partial: ["dev", "foo", "sha-860c190"], expected: ["user/app:bar", "user/app:dev", "user/app:foo", "user/app:sha-860c190"]),
        Case(
            name: "latest=true on a branch", ref: "refs/heads/dev", flavor: ["latest=true"], main: "dev", latest: true,
            expected: ["user/app:dev", "user/app:latest"]),
        Case(
            name: "latest=false on a release", ref: "refs/tags/v1.1.1", tags: ["type=semver,pattern={{version}}"], flavor: ["latest=false"],
            main: "1.1.1", expected: ["user/app:1.1.1"]),
        Case(
            name: "latest=auto follows the first rule only", ref: "refs/tags/v1.1.1",
            tags: ["type=sha,priority=1000", "type=semver,pattern={{version}}"], main: "sha-860c190", partial: ["1.1.1"],
            expected: ["user/app:sha-860c190", "user/app:1.1.1"]),
        Case(
            name: "flavor prefix and suffix, onlatest", ref: "refs/tags/v1.1.1", tags: ["type=semver,pattern={{version}}"],
            flavor: ["prefix=foo-,onlatest=true", "suffix=-bar"], main: "foo-1.1.1-bar", latest: true,
            expected: ["user/app:foo-1.1.1-bar", "user/app:foo-latest"]),
        Case(
            name: "a rule's own prefix beats the flavor's", ref: "refs/tags/v1.1.1",
            tags: ["type=semver,pattern={{version}},prefix=v", "type=sha"], flavor: ["prefix=p-", "suffix=-s,onlatest=true"],
            main: "v1.1.1-s", partial: ["sha-860c190-s"], latest: true,
            expected: ["user/app:v1.1.1-s", "user/app:sha-860c190-s", "user/app:latest-s"]),
        // Images
        Case(
            name: "several images, lower-cased, disabled ones skipped", ref: "refs/heads/dev",
            images: ["User/App", "name=ghcr.io/o/skip,enable=false", "ghcr.io/Project/X"], main: "dev",
            expected: ["user/app:dev", "ghcr.io/project/x:dev"]),
        Case(
            name: "no image: bare tags", ref: "refs/tags/v1.1.1", images: [], tags: ["type=semver,pattern={{version}}"],
            main: "1.1.1", latest: true, expected: ["1.1.1", "latest"]),
        Case(name: "old comma-separated image list", ref: "refs/heads/dev", images: ["a/b,c/d"], main: "dev", expected: ["a/b:dev", "c/d:dev"]),
        // A workflow input is read as CSV first (quotes removed), so a quoted comma still splits the rule.
        Case(
            name: "quotes do not protect commas in workflow inputs", ref: "refs/tags/release1",
            tags: ["type=match,\"pattern=^release\\d{1,2}\""], main: nil, expected: []),
    ]

    @Test(arguments: cases)
    func tagsVersionAndLatest(_ c: Case) throws {
        let result = try Self.run(c)
        #expect(result.version == MetadataVersion(main: c.main, partial: c.partial, latest: c.latest))
        #expect(result.tags == c.expected)
    }

    @Test func labelsAreTheActionsEight() throws {
        let result = try Self.run(Case(name: "", ref: "refs/tags/v1.1.1", tags: ["type=semver,pattern={{version}}"], main: nil, expected: []))
        #expect(
            result.labels == [
                "org.opencontainers.image.created=2020-01-10T00:30:00.000Z",
                "org.opencontainers.image.description=Auth service",
                "org.opencontainers.image.licenses=Apache-2.0",
                "org.opencontainers.image.revision=\(Self.sha)",
                "org.opencontainers.image.source=https://github.com/project-unisonos/unison-auth",
                "org.opencontainers.image.title=unison-auth",
                "org.opencontainers.image.url=https://github.com/project-unisonos/unison-auth",
                "org.opencontainers.image.version=1.1.1",
            ])
        let none = try Self.run(Case(name: "", event: "", ref: "", sha: "", main: nil, expected: []))
        #expect(none.labels.contains("org.opencontainers.image.version="))
        #expect(none.labels.contains("org.opencontainers.image.revision="))
    }

    @Test func customLabelsOverrideAndSortLikeLocaleCompare() throws {
        let context = MetadataContext(eventName: "push", ref: "refs/heads/dev", sha: Self.sha, date: Self.now, payloadDefaultBranch: "master")
        let labels = [
            "A_b=1", "a-b=2", "a.b=3", "Ab=4", "ab=5", "a1=6", "novalue", "maintainer=me",
            "org.opencontainers.image.title=Over-{{branch}}", "x=a=b",
        ]
        let result = try MetadataAction(
            inputs: MetadataInputs(images: ["user/app"], labels: labels), context: context,
            repository: Self.repository
        ).evaluate()
        #expect(
            result.labels.map { String($0.split(separator: "=")[0]) } == [
                "A_b", "a-b", "a.b", "a1", "ab", "Ab", "maintainer",
                "org.opencontainers.image.created", "org.opencontainers.image.description", "org.opencontainers.image.licenses",
                "org.opencontainers.image.revision", "org.opencontainers.image.source", "org.opencontainers.image.title",
                "org.opencontainers.image.url", "org.opencontainers.image.version", "x",
            ])
        #expect(result.labels.contains("org.opencontainers.image.title=Over-dev"))
        #expect(result.labels.contains("x=a=b"))
    }

    @Test func warningsForWhatTheActionWarnsAbout() throws {
        let r = try Self.run(
            Case(
                name: "", ref: "refs/tags/sometag", tags: ["type=semver,pattern={{version}}", "type=match,pattern=zzz"],
                main: nil, expected: []))
        #expect(r.warnings == ["sometag is not a valid semver. More info: https://semver.org/", "zzz does not match sometag."])
    }

    @Test(arguments: [
        ("type=foo", "unknown tag type"),
        ("type=semver", "missing pattern"),
        ("type=match", "missing pattern"),
        ("type=match,pattern=x,group=a", "invalid match group"),
        ("type=ref", "missing event"),
        ("type=ref,event=push", "invalid event"),
        ("type=raw", "missing value"),
        ("type=sha,format=medium", "invalid format"),
        ("type=raw,value=x,enable=yes", "enable must evaluate"),
        ("type=raw,value={{date}}", "date takes one format"),
        ("type=raw,value={{date 'YYYY' zone='UTC'}}", "unknown zone attribute"),
        ("type=raw,value={{date 'YYYY' tz='Mars/Olympus'}}", "unknown time zone"),
        ("type=raw,value={{#if x}}y{{/if}}", "blocks and partials"),
        ("type=raw,value={{branch", "without a closing"),
        ("type=match,pattern=(", "invalid regular expression"),
        ("type=pep440,pattern={{version}}", "not supported"),
    ])
    func badRulesAreRefused(_ line: String, _ message: String) throws {
        let error = #expect(throws: MetadataActionError.self) {
            _ = try Self.run(Case(name: "", ref: "refs/tags/v1.0.0", tags: [line], main: nil, expected: []))
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    }

    @Test(arguments: [
        (["latest=maybe"], "latest must be"), (["prefix"], "invalid flavor entry"), (["foo=bar"], "unknown flavor entry"),
        (["prefix=a,onlatest=yes"], "onlatest must be"),
    ])
    func badFlavorsAreRefused(_ flavor: [String], _ message: String) {
        let error = #expect(throws: MetadataActionError.self) {
            _ = try Self.run(Case(name: "", ref: "refs/heads/dev", flavor: flavor, main: nil, expected: []))
        }
        #expect(error?.description.contains(message) == true)
    }

    /// The action's isRawStatement examples.
    @Test(arguments: [
        ("{{ raw }}.{{ version }}", false), ("{{ version }},{{raw }.", false), ("{{ raw }}", true),
        ("{{ raw}}", true), ("{{raw}}", true), (" {{raw}}", false),
    ])
    func rawStatement(_ pattern: String, _ expected: Bool) {
        #expect(MetadataTemplate.isRawStatement(pattern) == expected)
    }

    @Test(arguments: [
        ("type=raw,value=a", ["type=raw", "value=a"]),
        ("type=match,\"pattern=a,b\",group=1", ["type=match", "pattern=a,b", "group=1"]),
        ("a,\"say \"\"hi\"\"\"", ["a", "say \"hi\""]),
        ("trailing,", ["trailing", ""]),
    ])
    func csvFields(_ line: String, _ fields: [String]) throws {
        #expect(try MetadataCSV.firstRecord(line) == fields)
    }

    @Test func workflowInputsDropCommentsAndBlankLines() {
        #expect(
            MetadataInput.lines(["  type=sha  ", "", "# a comment", "type=raw,value=x # not a comment"])
                == ["type=sha", "type=raw,value=x # not a comment"])
        #expect(MetadataInput.lines(["type=raw,\"value=a\""]) == ["type=raw,value=a"])
    }
}
