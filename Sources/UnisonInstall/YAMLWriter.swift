/// A small YAML emitter for generated files (compose bundles): block style, two-space indent,
/// every string double-quoted (so no value can turn into a boolean, number or null by accident),
/// mapping keys written in the order given. Callers sort keys where order carries no meaning.
package indirect enum YAMLValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    package static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: return false
        }
    }

    /// A mapping with its keys in byte order.
    package static func sortedMap(_ pairs: [(String, YAMLValue)]) -> YAMLValue {
        .map(pairs.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) })
    }

    /// The document text, ending in a newline.
    package func render() -> String {
        var out = ""
        switch self {
        case let .map(pairs) where !pairs.isEmpty: Self.writeMap(pairs, indent: 0, into: &out)
        case let .list(items) where !items.isEmpty: Self.writeList(items, indent: 0, into: &out)
        default: out = scalar + "\n"
        }
        return out
    }

    private var scalar: String {
        switch self {
        case let .string(s): return Self.quote(s)
        case let .int(n): return String(n)
        case let .bool(b): return b ? "true" : "false"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    private var isBlock: Bool {
        switch self {
        case let .list(items): return !items.isEmpty
        case let .map(pairs): return !pairs.isEmpty
        default: return false
        }
    }

    private static func writeMap(_ pairs: [(String, YAMLValue)], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in pairs {
            let k = plainKey(key) ? key : quote(key)
            if value.isBlock {
                out += "\(pad)\(k):\n"
                switch value {
                case let .map(p): writeMap(p, indent: indent + 2, into: &out)
                case let .list(items): writeList(items, indent: indent + 2, into: &out)
                default: break
                }
            } else {
                out += "\(pad)\(k): \(value.scalar)\n"
            }
        }
    }

    private static func writeList(_ items: [YAMLValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case let .map(pairs) where !pairs.isEmpty:
                // "- key: value" then the remaining keys aligned under the first.
                var first = ""
                writeMap([pairs[0]], indent: indent + 2, into: &first)
                out += pad + "- " + first.dropFirst(indent + 2)
                writeMap(Array(pairs.dropFirst()), indent: indent + 2, into: &out)
            case let .list(inner) where !inner.isEmpty:
                out += "\(pad)-\n"
                writeList(inner, indent: indent + 2, into: &out)
            default:
                out += "\(pad)- \(item.scalar)\n"
            }
        }
    }

    /// Keys made only of letters, digits, `_`, `-` and `.` that start with a letter or `_`
    /// read back as the same string in YAML 1.1 and 1.2, except the boolean/null words.
    private static func plainKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first.isASCIIAlpha || first == "_" else { return false }
        let reserved: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
        if reserved.contains(key.lowercased()) { return false }
        return key.unicodeScalars.allSatisfy { $0.isASCIIAlpha || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// A double-quoted YAML scalar with `\`, `"` and control characters escaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension Unicode.Scalar {
    var isASCIIAlpha: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
