import Foundation
import Testing
import UnisonTestSupport

/// The whole command tree, read from the built binary (`--experimental-dump-help`), so that a
/// command added later is checked without editing this file.
enum CommandTree {
    /// Every leaf command as its words, e.g. ["image", "build", "iso"].
    static func leaves() throws -> [[String]] {
        let dump = try CLI.run(["--experimental-dump-help"])
        guard dump.status == 0,
            let root = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any],
            let command = root["command"] as? [String: Any]
        else {
            throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "no command tree: \(dump.stderr)"])
        }
        var found: [[String]] = []
        func walk(_ node: [String: Any], _ path: [String]) {
            let children = (node["subcommands"] as? [[String: Any]] ?? []).filter { $0["commandName"] as? String != "help" }
            if children.isEmpty, !path.isEmpty { found.append(path); return }
            for child in children { walk(child, path + [child["commandName"] as? String ?? "?"]) }
        }
        walk(command, [])
        return found
    }

    /// The Swift sources of every test target.
    static func testSources() throws -> [(path: String, text: String)] {
        let tests = CLI.repoRoot.appendingPathComponent("Tests")
        let files = FileManager.default.enumerator(atPath: tests.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try files.sorted().map { ($0, try String(contentsOf: tests.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Whether some test passes `leaf` to the CLI: its words as consecutive string literals (a
    /// one-word command opening an argument array), not followed by "--help" alone.
    static func invoked(_ leaf: [String], in source: String) -> Bool {
        let words = leaf.map { "\"" + NSRegularExpression.escapedPattern(for: $0) + "\"" }.joined(separator: #"\s*,\s*"#)
        let pattern = (leaf.count == 1 ? #"\[\s*"# : "") + words + #"(?!\s*,\s*"--help"\s*\])"#
        return source.range(of: pattern, options: .regularExpression) != nil
    }
}

@Suite("every command of unisonctl --help", .tags(.unit))
struct CommandTreeCLITests {
    @Test("the tree has the commands the README names, and each leaf answers --help with its own usage")
    func everyLeafHasHelp() throws {
        let leaves = try CommandTree.leaves()
        for expected in [["spec", "validate"], ["image", "build", "iso"], ["qa", "install"], ["install", "wsl"], ["start"], ["recover"]] {
            #expect(leaves.contains(expected), "\(expected) missing from \(leaves)")
        }
        for leaf in leaves {
            let r = try CLI.run(leaf + ["--help"])
            #expect(r.status == 0, "\(leaf): \(r.stderr)")
            #expect(r.stdout.contains("USAGE: unisonctl \(leaf.joined(separator: " "))"), "\(leaf): \(r.stdout.prefix(300))")
        }
    }

    @Test("every leaf command is run by at least one CLI test (a new command needs its own invocation test)")
    func everyLeafIsInvoked() throws {
        let sources = try CommandTree.testSources().filter { !$0.path.hasSuffix("CommandTreeCLITests.swift") }
        let text = sources.map(\.text).joined(separator: "\n")
        let missing = try CommandTree.leaves().filter { !CommandTree.invoked($0, in: text) }
        #expect(
            missing.isEmpty,
            """
            no test runs these commands: \(missing.map { $0.joined(separator: " ") }.joined(separator: ", ")); \
            add a CLI test that runs each (its words as an argument array, e.g. ["image", "build", "iso", …])
            """)
        // The matcher itself: a help-only or absent invocation does not count.
        #expect(CommandTree.invoked(["qa", "boot"], in: #"CLI.run(["qa", "boot", disk.path])"#))
        #expect(!CommandTree.invoked(["qa", "boot"], in: #"CLI.run(["qa", "boot", "--help"])"#))
        #expect(!CommandTree.invoked(["start"], in: #"let verbs = "start""#))
        #expect(CommandTree.invoked(["start"], in: #"OpsCLI.run(["start", "--root", r])"#))
    }

    /// Start-up: ArgumentParser builds the whole command tree on every run, and a command
    /// without a `commandName` gets its name from `String(describing: Self.self)`, a dynamic
    /// cast that scans every protocol conformance record of the binary. Those scans were half of
    /// `unisonctl --version` (docs/performance.md), so every configuration names its command.
    @Test("every command configuration names its command (no name derived from the type at start-up)")
    func everyConfigurationNamesItsCommand() throws {
        let commands = CLI.repoRoot.appendingPathComponent("Sources/unisonctl")
        let files = FileManager.default.enumerator(atPath: commands.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        var unnamed: [String] = []
        var seen = 0
        for file in files {
            let text = try String(contentsOf: commands.appendingPathComponent(file), encoding: .utf8)
            var rest = text[...]
            while let open = rest.range(of: "CommandConfiguration(") {
                seen += 1
                var depth = 1
                var index = open.upperBound
                while depth > 0, index < rest.endIndex {
                    if rest[index] == "(" { depth += 1 } else if rest[index] == ")" { depth -= 1 }
                    index = rest.index(after: index)
                }
                if !rest[open.upperBound..<index].contains("commandName:") {
                    unnamed.append("\(file):\(text[..<open.lowerBound].filter { $0 == "\n" }.count + 1)")
                }
                rest = rest[index...]
            }
        }
        #expect(seen > 50, "the scan found the configurations")
        #expect(unnamed.isEmpty, "name these commands explicitly: \(unnamed)")
    }
}
