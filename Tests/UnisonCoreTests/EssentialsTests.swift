import Foundation
import Testing
import UnisonTestSupport

@testable import UnisonCore

// The Essentials-only replacements for full Foundation: each must behave as the Foundation call
// it replaced (compared against Foundation itself where the test can call it).

@Suite(.tags(.unit)) struct TextEssentialsTests {
    @Test(arguments: [
        " a b \t", "\r\n x \r\n", "\u{00A0}nbsp\u{2003}", "\u{2028}line\u{0085}", "", "   ", "x",
    ])
    func trimmingMatchesFoundation(_ text: String) {
        #expect(text.trimming(.whitespaces) == text.trimmingCharacters(in: .whitespaces))
        #expect(text.trimming(.newlines) == text.trimmingCharacters(in: .newlines))
        #expect(text.trimming(.whitespacesAndNewlines) == text.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(text.trimming(ScalarSet(charactersIn: " x\r")) == text.trimmingCharacters(in: CharacterSet(charactersIn: " x\r")))
    }

    @Test func containsAndReplacingWorkOnScalarsLikeFoundation() {
        let crlf = "key=a\r\nb"
        #expect(crlf.contains("\n"), "a CR LF holds a newline: the stdlib's character search misses it")
        #expect(crlf.contains("\r"))
        #expect(!crlf.contains("\n\n"))
        #expect(crlf.replacing("\n", with: "|") == "key=a\r|b")
        #expect(crlf.replacing("\r\n", with: "\n") == "key=a\nb")
        #expect("aaa".replacing("a", with: "bb") == "bbbbbb")
        #expect("abc".replacing("", with: "x") == "abc")
        #expect("it's".replacing("'", with: #"'\''"#) == #"it'\''s"#)
    }

    @Test func firstRangeIsALiteralScalarSearch() {
        let text = "x=a\r\nb é e\u{301}"
        #expect(text.firstRange(of: "\n").map { text.utf8.distance(from: text.utf8.startIndex, to: $0.lowerBound) } == 4)
        #expect(text.firstRange(of: "\u{301}") != nil, "a combining mark is found on its own, as Foundation does")
        #expect(text.firstRange(of: "zz") == nil)
        #expect(text.firstRange(of: "") == text.startIndex..<text.startIndex)
        let tail = text[text.firstRange(of: "b")!.lowerBound...]
        #expect(tail.firstRange(of: "é").map { String(tail[$0]) } == "é", "a substring's ranges index its base string")
        #expect("aaa".replacing("aa", with: "b") == "ba", "occurrences do not overlap")
        #expect("ab".replacing("abc", with: "x") == "ab")
    }

    /// Literal search against Foundation's on random strings of awkward scalars (CR LF, combining
    /// marks, multi-byte letters): the same first match, the same replacement result.
    @Test func searchAgreesWithFoundationOnRandomText() {
        let pieces = ["a", "b", "é", "\r", "\n", "\r\n", "e\u{301}", "\u{301}", "€", "ab"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 0...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let needle = (0..<Int.random(in: 1...3, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let ours = text.firstRange(of: needle).map { text.utf8.distance(from: text.utf8.startIndex, to: $0.lowerBound) }
            let foundation = (text as NSString).range(of: needle, options: .literal)
            let expected =
                foundation.location == NSNotFound
                ? nil : String(decoding: text.utf16.prefix(foundation.location), as: UTF16.self).utf8.count
            #expect(ours == expected, "\(Array(text.unicodeScalars)) / \(Array(needle.unicodeScalars))")
            #expect(text.contains(needle) == (expected != nil))
            #expect(text.replacing(needle, with: "<>") == text.replacingOccurrences(of: needle, with: "<>", options: .literal))
        }
    }

    @Test(arguments: ["a%20b", "%41%7a", "100%", "%zz", "%e2%82%ac", "%ff", "plain", "%2", ""])
    func percentDecodingMatchesFoundation(_ text: String) {
        #expect(text.percentDecoded() == text.removingPercentEncoding)
    }

    // NSString's documented results (swift-corelibs-foundation's own implementation traps on
    // some of these inputs, so they are written out rather than computed).
    @Test(arguments: [
        ("/a/b", "/a", "b"), ("/a/b/", "/a", "b"), ("/a", "/", "a"), ("/", "/", "/"), ("a", "", "a"),
        ("a/b", "a", "b"), ("", "", ""), ("//a//b//", "/a", "b"), ("a/", "", "a"),
    ])
    func pathTextFollowsNSStringRules(_ path: String, _ parent: String, _ last: String) {
        #expect(PathText.parent(path) == parent, "parent of \(path)")
        #expect(PathText.lastComponent(path) == last, "last component of \(path)")
    }

    @Test func paddingCutsOrFills() {
        #expect("ab".padded(to: 4) == "ab  ")
        #expect("abcdef".padded(to: 3) == "abc")
        #expect("ab".padded(to: 4) == "ab".padding(toLength: 4, withPad: " ", startingAt: 0))
    }

    @Test(arguments: [0.0, 0.04, 0.05, 0.15, 1.25, 2.5, 12.345, 99.95, -1.25, -0.04, 1024.0, 3.999])
    func fixedDecimalsAgreeWithPrintf(_ value: Double) {
        // printf rounds the binary value half to even; ours rounds half away from zero, which
        // differs only on exact binary halves: compare against values that are not exact halves.
        for digits in [0, 1, 2] {
            let theirs = String(format: "%.\(digits)f", value)
            let ours = NumberText.fixed(value, digits: digits)
            if theirs != ours {
                #expect(abs(Double(ours)! - value) <= abs(Double(theirs)! - value) + 1e-12, "\(value) \(digits): \(ours) vs \(theirs)")
            }
        }
    }

    @Test func hexAndDecimalMatchPrintf() {
        for v in [0, 1, 15, 255, 4096, 0xDEAD_BEEF] {
            #expect(NumberText.hex(v, width: 8) == String(format: "%08x", v))
            #expect(NumberText.hex(v, width: 4, uppercase: true) == String(format: "%04X", v))
        }
        for v in [0, 7, 42, 999, 1000, 2_147_483_647] { #expect(NumberText.decimal(v, width: 3) == String(format: "%03d", v)) }
        #expect(NumberText.hex(bytes: [0, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
        #expect(NumberText.decimal(-7, width: 3) == "-007")
    }
}

@Suite(.tags(.unit)) struct JSONValueTests {
    @Test func parsesEveryKindAndKeepsIntegersExact() throws {
        let doc = try JSONValue.parse(Data(#"{"a":[1,2.5,"s",true,null,{"b":9007199254740993}],"c":-3}"#.utf8))
        #expect(doc["a"]?[0]?.integer == 1)
        #expect(doc["a"]?[1]?.double == 2.5)
        #expect(doc["a"]?[1]?.integer == nil)
        #expect(doc["a"]?[2]?.string == "s")
        #expect(doc["a"]?[3]?.bool == true)
        #expect(doc["a"]?[4]?.isNull == true)
        #expect(doc["a"]?[5]?["b"]?.integer == 9_007_199_254_740_993)
        #expect(doc["c"]?.integer == -3)
        #expect(doc["missing"] == nil)
        #expect(doc["a"]?[9] == nil)
    }

    @Test func encodesSortedWithPlainSlashes() throws {
        let value: JSONValue = ["z": "a/b", "a": [1, true, nil]]
        #expect(String(decoding: try value.encoded(), as: UTF8.self) == #"{"a":[1,true,null],"z":"a/b"}"#)
    }

    // (Essentials' JSONDecoder accepts a trailing comma, "[1,]", which JSONSerialization refused.)
    @Test(arguments: ["", "{", "nul", "{\"a\" 1}", "[1 2]"])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Data(text.utf8)) }
    }
}

@Suite(.tags(.unit)) struct ChildProcessTests {
    @Test func runnerPassesInputEnvironmentAndDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try SystemProcessRunner().run(
            ["sh", "-c", #"cat; printf '%s|%s' "$PROBE" "$(pwd)"; echo oops >&2; exit 3"#],
            environment: ["PROBE": "p=1"], input: Data("in\n".utf8), workingDirectory: dir)
        #expect(result.status == 3)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "in\np=1|\(dir.resolvingSymlinksInPath().path)")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "oops\n")
    }

    @Test func outputLargerThanAPipeDoesNotBlock() throws {
        let result = try SystemProcessRunner().run(
            ["sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"], environment: nil, input: nil,
            workingDirectory: nil)
        #expect(result.status == 0)
        #expect(result.stdout.count == 300_000 && result.stderr.count == 300_000)
    }

    @Test func signalEndsAChildAndReportsTheSignal() throws {
        let child = try ChildProcess(executable: "/bin/sleep", arguments: ["30"])
        #expect(child.isRunning)
        child.signal(SIGKILL)
        #expect(child.wait() == SIGKILL)
        #expect(!child.isRunning)
    }

    @Test func childInheritsNoDescriptorBeyondItsStreams() throws {
        // A descriptor opened without O_CLOEXEC, as a library or a test might: the child must
        // not see it (nor the pipes its output goes through, beyond 1 and 2). Its number is
        // whatever open returns: dup2 onto a fixed number would silently close a descriptor
        // another test running in this process holds there.
        let fd = open("/dev/null", O_RDONLY)
        try #require(fd >= 3)
        defer { close(fd) }
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0)
        let result = try SystemProcessRunner().run(
            // `ls` lists the shell's descriptors (not its own: it is not the last command, so it is not exec'd in place).
            ["sh", "-c", "ls /proc/$$/fd; true"], environment: nil, input: nil,
            workingDirectory: nil)
        #expect(result.status == 0)
        let descriptors = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(!descriptors.contains(String(fd)), "\(descriptors)")
        #expect(Set(descriptors) == ["0", "1", "2"], "\(descriptors)")
    }

    @Test func missingProgramIsNotFound() {
        #expect(throws: ProcessError.self) {
            try SystemProcessRunner().run(["unisonctl-no-such-tool"], environment: nil, input: nil, workingDirectory: nil)
        }
    }
}

@Suite(.tags(.unit)) struct FileIOTests {
    @Test func readsWritesSeeksAndTruncates() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("unisonctl-fileio-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: url.path, contents: Data("0123456789".utf8))
        defer { try? FileManager.default.removeItem(at: url) }
        let w = try FileIO(forWritingTo: url)
        try w.seek(toOffset: 2)
        try w.write(contentsOf: Data("ab".utf8))
        try w.truncate(atOffset: 6)
        try w.close()
        let r = try FileIO(forReadingFrom: url)
        #expect(try r.read(upToCount: 3) == Data("01a".utf8))
        #expect(try r.readToEnd() == Data("b45".utf8))
        #expect(try r.read(upToCount: 1) == nil)
        #expect(try r.seekToEnd() == 6)
        #expect(throws: FileIOError.self) { try FileIO(forReadingFrom: url.appendingPathExtension("missing")) }
    }

    @Test func errorTextNamesPathAndReason() {
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent-unisonctl/x"))
            Issue.record("expected an error")
        } catch {
            #expect(ErrorText.describe(error) == "/nonexistent-unisonctl/x: No such file or directory")
        }
        #expect(ErrorText.describe(FileIOError.system(operation: "open", path: "/p", errno: EACCES)) == "open /p: Permission denied")
    }
}

@Suite(.tags(.unit)) struct ThreadsTests {
    @Test func detachedWorkersSignalThroughACondition() {
        let condition = UnisonCore.Condition()
        let counter = Counter()
        for _ in 0..<8 {
            Threads.detach {
                condition.lock()
                counter.value += 1
                condition.broadcast()
                condition.unlock()
            }
        }
        condition.lock()
        while counter.value < 8 { condition.wait() }
        condition.unlock()
        #expect(counter.value == 8)
    }

    final class Counter: @unchecked Sendable { var value = 0 }
}
