import FoundationEssentials
import UnisonCore

/// GitHub Actions step outputs (`$GITHUB_OUTPUT`): each value written as
/// `name<<DELIMITER\nvalue\nDELIMITER\n`, the multi-line form `core.setOutput` uses.
package enum GitHubOutput {
    /// The text to append for `outputs`, in the order given. The delimiter is derived from the
    /// content (reproducible) and checked not to occur in any value.
    package static func render(_ outputs: [(name: String, value: String)]) -> String {
        var out = ""
        for (name, value) in outputs {
            var salt = 0
            var delimiter: String
            repeat {
                delimiter = "ghadelimiter_" + String(SHA256Hex.hex(Data("\(name)\n\(value)\n\(salt)".utf8)).prefix(32))
                salt += 1
            } while value.contains(delimiter)
            out += "\(name)<<\(delimiter)\n\(value)\n\(delimiter)\n"
        }
        return out
    }

    /// Appends to the file (created when missing), as the runner expects.
    package static func append(_ outputs: [(name: String, value: String)], to url: URL) throws {
        let text = render(outputs)
        if !FileManager.default.fileExists(atPath: url.path) {
            try AtomicFile.write(Data(text.utf8), to: url)
            return
        }
        let handle = try FileIO(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Reads a file of such outputs back (also the `name=value` single-line form).
    package static func parse(_ text: String) -> [(name: String, value: String)] {
        var result: [(String, String)] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if let r = line.firstRange(of: "<<") {
                let name = String(line[..<r.lowerBound])
                let delimiter = String(line[r.upperBound...])
                var value: [String] = []
                i += 1
                while i < lines.count, lines[i] != delimiter { value.append(lines[i]); i += 1 }
                result.append((name, value.joined(separator: "\n")))
            } else if let eq = line.firstIndex(of: "=") {
                result.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
            }
            i += 1
        }
        return result
    }
}
