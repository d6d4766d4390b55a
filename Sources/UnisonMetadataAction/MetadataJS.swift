import FoundationEssentials
import UnisonCore

/// JavaScript conversions the action's behaviour depends on, reproduced where they matter.
enum MetadataJS {
    /// `Number(s)`: nil where JS gives NaN. Whitespace is trimmed, `""` is 0, `0x`/`0o`/`0b`
    /// prefixes and `Infinity` are understood.
    static func number(_ s: String) -> Double? {
        let t = s.trimming(.whitespacesAndNewlines)
        if t.isEmpty { return 0 }
        let lower = t.lowercased()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
            return UInt64(lower.dropFirst(2), radix: radix).map(Double.init)
        }
        switch t {
        case "Infinity", "+Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        guard t.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
        return Double(t)
    }

    /// How handlebars prints a number: integers without a fraction.
    static func string(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e21 { return String(Int64(n)) }
        return String(n)
    }

    /// `s.replace(/[^a-zA-Z0-9._-]+/g, '-')`: the action's tag sanitizing.
    static func sanitizeTag(_ s: String) -> String {
        var out = ""
        var inRun = false
        for c in s.unicodeScalars {
            let ok = ScalarSet.asciiAlphanumerics.contains(c) || c == "." || c == "_" || c == "-"
            if ok {
                out.unicodeScalars.append(c)
                inRun = false
            } else if !inRun {
                out.append("-")
                inRun = true
            }
        }
        return out
    }
}
