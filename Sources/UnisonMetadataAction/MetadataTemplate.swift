import FoundationEssentials
import UnisonCore

/// A value a template expression yields, printed the way handlebars prints JavaScript values.
package enum TemplateValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([TemplateValue])
    /// A JS object: handlebars prints `[object Object]`.
    case object
    case undefined

    /// `'' + value`, with null/undefined printing as nothing.
    var text: String {
        switch self {
        case let .string(s): return s
        case let .number(n): return MetadataJS.string(n)
        case let .bool(b): return b ? "true" : "false"
        case let .array(items): return items.map { $0 == .undefined ? "" : $0.text }.joined(separator: ",")
        case .object: return "[object Object]"
        case .undefined: return ""
        }
    }
}

/// What a name in a template resolves to: a plain value, or a function the action exposes
/// (`date`, `branch`, …) that handlebars calls with the expression's parameters and hash.
package enum TemplateEntry: Sendable {
    case value(TemplateValue)
    case helper(@Sendable (_ params: [TemplateValue], _ hash: [(String, TemplateValue)]) throws -> TemplateValue)
}

/// The part of Handlebars (https://handlebarsjs.com/guide/) the action's templates use:
/// text, `{{expr}}` (HTML-escaped), `{{{expr}}}` / `{{& expr}}` (raw), comments, `~` whitespace
/// control and `\{{` escapes. An expression is a name with optional parameters (strings,
/// numbers, booleans, names) and `key=value` hash pairs. Blocks and partials are refused.
package enum MetadataTemplate {
    struct Expression: Equatable {
        var path: [String]
        var params: [Param]
        var hash: [(String, Param)]

        static func == (a: Expression, b: Expression) -> Bool {
            a.path == b.path && a.params == b.params && a.hash.map(\.0) == b.hash.map(\.0) && a.hash.map(\.1) == b.hash.map(\.1)
        }
    }

    enum Param: Equatable {
        case literal(TemplateValue)
        case path([String])
    }

    enum Node: Equatable {
        case text(String)
        case mustache(Expression, escaped: Bool)
        case comment
    }

    /// Renders `template`, resolving names with `lookup`.
    package static func render(_ template: String, lookup: (String) -> TemplateEntry?) throws -> String {
        var out = ""
        for node in try parse(template) {
            switch node {
            case let .text(s): out += s
            case .comment: break
            case let .mustache(expr, escaped):
                let value = try evaluate(expr, template: template, lookup: lookup)
                out += escaped ? escapeHTML(value.text) : value.text
            }
        }
        return out
    }

    /// True when the template is exactly one `{{raw}}` statement (the action's isRawStatement).
    package static func isRawStatement(_ template: String) -> Bool {
        guard let nodes = try? parse(template), nodes.count == 1, case let .mustache(expr, _) = nodes[0] else { return false }
        return expr.path == ["raw"]
    }

    static func evaluate(_ expr: Expression, template: String, lookup: (String) -> TemplateEntry?) throws -> TemplateValue {
        guard expr.path.count == 1, let name = expr.path.first else {
            // `this.x` is `x`; deeper paths reach nothing the action provides.
            if expr.path.count == 2, expr.path[0] == "this" {
                return try evaluate(Expression(path: [expr.path[1]], params: expr.params, hash: expr.hash), template: template, lookup: lookup)
            }
            return .undefined
        }
        let params = try expr.params.map { try resolve($0, template: template, lookup: lookup) }
        let hash = try expr.hash.map { ($0.0, try resolve($0.1, template: template, lookup: lookup)) }
        switch lookup(name) {
        case nil:
            if !params.isEmpty || !hash.isEmpty { throw MetadataActionError.invalidTemplate(template: template, reason: "missing helper '\(name)'") }
            return .undefined
        case let .value(v)?:
            if !params.isEmpty || !hash.isEmpty { throw MetadataActionError.invalidTemplate(template: template, reason: "missing helper '\(name)'") }
            return v
        case let .helper(f)?:
            do {
                return try f(params, hash)
            } catch let error as MetadataActionError {
                if case .invalidTemplate = error { throw error }
                if case .unknownTimeZone = error { throw error }
                throw MetadataActionError.invalidTemplate(template: template, reason: error.description)
            }
        }
    }

    static func resolve(_ param: Param, template: String, lookup: (String) -> TemplateEntry?) throws -> TemplateValue {
        switch param {
        case let .literal(v): return v
        case let .path(path): return try evaluate(Expression(path: path, params: [], hash: []), template: template, lookup: lookup)
        }
    }

    /// Handlebars' escapeExpression.
    static func escapeHTML(_ s: String) -> String {
        guard s.contains(where: { "&<>\"'`=".contains($0) }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#x27;"
            case "`": out += "&#x60;"
            case "=": out += "&#x3D;"
            default: out.append(c)
            }
        }
        return out
    }

    // MARK: - Parsing

    static func parse(_ template: String) throws -> [Node] {
        let chars = Array(template)
        var nodes: [Node] = []
        var text = ""
        var stripNextLeading = false
        var i = 0

        func flushText(stripTrailing: Bool) {
            var t = text
            if stripNextLeading { t = String(t.drop { $0.isWhitespace }) }
            if stripTrailing { while let last = t.last, last.isWhitespace { t.removeLast() } }
            if !t.isEmpty { nodes.append(.text(t)) }
            text = ""
            stripNextLeading = false
        }

        while i < chars.count {
            // `\{{` prints `{{` and the text up to the next mustache literally.
            if chars[i] == "\\", i + 2 < chars.count, chars[i + 1] == "{", chars[i + 2] == "{" {
                text += "{{"
                i += 3
                while i < chars.count, !(chars[i] == "{" && i + 1 < chars.count && chars[i + 1] == "{") {
                    text.append(chars[i]); i += 1
                }
                continue
            }
            guard chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" else {
                text.append(chars[i]); i += 1; continue
            }
            var j = i + 2
            let triple = j < chars.count && chars[j] == "{"
            if triple { j += 1 }
            var stripBefore = false
            if j < chars.count, chars[j] == "~" { stripBefore = true; j += 1 }

            // Comments: {{!-- … --}} or {{! … }}.
            if j < chars.count, chars[j] == "!" {
                let long = j + 2 < chars.count && chars[j + 1] == "-" && chars[j + 2] == "-"
                let closer: [Character] = long ? ["-", "-", "}", "}"] : ["}", "}"]
                guard let end = find(closer, in: chars, from: j + 1) else {
                    throw MetadataActionError.invalidTemplate(template: template, reason: "unclosed comment")
                }
                let stripAfter = end > 0 && chars[end - 1] == "~"
                flushText(stripTrailing: stripBefore)
                nodes.append(.comment)
                stripNextLeading = stripAfter
                i = end + closer.count
                continue
            }

            let closer: [Character] = triple ? ["}", "}", "}"] : ["}", "}"]
            guard let end = find(closer, in: chars, from: j) else {
                throw MetadataActionError.invalidTemplate(template: template, reason: "'{{' without a closing '}}'")
            }
            var inner = Array(chars[j..<end])
            var stripAfter = false
            if inner.last == "~" { stripAfter = true; inner.removeLast() }
            var escaped = !triple
            if !triple, inner.first == "&" { escaped = false; inner.removeFirst() }
            if let first = inner.first(where: { !$0.isWhitespace }),
                "#/^>".contains(first) || String(inner).trimming(.whitespaces) == "else"
            {
                throw MetadataActionError.invalidTemplate(template: template, reason: "blocks and partials are not supported")
            }
            let expr = try parseExpression(inner, template: template)
            flushText(stripTrailing: stripBefore)
            nodes.append(.mustache(expr, escaped: escaped))
            stripNextLeading = stripAfter
            i = end + closer.count
        }
        flushText(stripTrailing: false)
        return nodes
    }

    static func find(_ needle: [Character], in chars: [Character], from start: Int) -> Int? {
        guard needle.count <= chars.count else { return nil }
        var k = start
        while k + needle.count <= chars.count {
            if Array(chars[k..<(k + needle.count)]) == needle { return k }
            k += 1
        }
        return nil
    }

    /// `name param… key=value…`
    static func parseExpression(_ chars: [Character], template: String) throws -> Expression {
        var tokens: [(key: String?, param: Param)] = []
        var i = 0
        func fail(_ reason: String) -> MetadataActionError { .invalidTemplate(template: template, reason: reason) }

        while i < chars.count {
            if chars[i].isWhitespace { i += 1; continue }
            var key: String?
            // key=value
            var k = i
            while k < chars.count, isIDChar(chars[k]) { k += 1 }
            if k > i, k < chars.count, chars[k] == "=" {
                key = String(chars[i..<k])
                i = k + 1
            }
            guard i < chars.count else { throw fail("hash '\(key ?? "")' has no value") }
            let c = chars[i]
            let param: Param
            if c == "'" || c == "\"" {
                var s = ""
                var j = i + 1
                var closed = false
                while j < chars.count {
                    if chars[j] == "\\", j + 1 < chars.count, chars[j + 1] == c { s.append(c); j += 2; continue }
                    if chars[j] == c { closed = true; break }
                    s.append(chars[j]); j += 1
                }
                guard closed else { throw fail("unterminated string") }
                param = .literal(.string(s))
                i = j + 1
            } else if c == "(" {
                throw fail("sub-expressions are not supported")
            } else {
                var j = i
                while j < chars.count, !chars[j].isWhitespace { j += 1 }
                let word = String(chars[i..<j])
                i = j
                if let n = numberLiteral(word) {
                    param = .literal(.number(n))
                } else if word == "true" || word == "false" {
                    param = .literal(.bool(word == "true"))
                } else if word == "null" || word == "undefined" {
                    param = .literal(.undefined)
                } else {
                    let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isIDChar) }) || word == "this" else {
                        throw fail("unexpected '\(word)'")
                    }
                    param = .path(parts)
                }
            }
            tokens.append((key, param))
        }
        guard let first = tokens.first, first.key == nil else { throw fail("empty expression") }
        let path: [String]
        switch first.param {
        case let .path(p): path = p
        // `{{'name'}}` and `{{"name"}}` look the name up, as handlebars does.
        case let .literal(.string(s)): path = [s]
        case let .literal(v): path = [v.text]
        }
        var params: [Param] = []
        var hash: [(String, Param)] = []
        for token in tokens.dropFirst() {
            if let key = token.key {
                hash.append((key, token.param))
            } else {
                guard hash.isEmpty else { throw fail("parameters must come before key=value pairs") }
                params.append(token.param)
            }
        }
        return Expression(path: path, params: params, hash: hash)
    }

    static func numberLiteral(_ s: String) -> Double? {
        var body = Substring(s)
        if body.first == "-" { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        return Double(s)
    }

    /// Handlebars ID characters: anything but whitespace and `!"#%&'()*+,./;<=>@[\]^`{|}~`.
    static func isIDChar(_ c: Character) -> Bool {
        !c.isWhitespace && !"!\"#%&'()*+,./;<=>@[\\]^`{|}~".contains(c)
    }
}
