internal import CYAML

/// Why a document could not be composed; marks are 1-based (columns in Unicode scalars).
package enum YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Text with a mark, e.g. libyaml's "while parsing a block mapping" and where that started.
    package struct Context: Sendable, Equatable {
        package var text: String
        package var mark: Mark
        package init(text: String, mark: Mark) {
            self.text = text
            self.mark = mark
        }
    }

    /// The input is not acceptable as characters (a control character, say); `offset` counts bytes.
    case reader(problem: String, offset: Int, value: Int32)
    case scanner(context: Context?, problem: String, mark: Mark)
    case parser(context: Context?, problem: String, mark: Mark)
    /// Composing the events into a tree: an undefined alias, a second document, the limits.
    case composer(context: Context?, problem: String, mark: Mark)
    /// Keys that occur twice in one mapping, sorted; the context marks the first occurrence of the
    /// first of them.
    case duplicatedKeysInMapping(duplicates: [String], context: Context)
    /// libyaml could not allocate.
    case memory

    package var description: String {
        func located(_ kind: String, _ context: Context?, _ problem: String, _ mark: Mark) -> String {
            let ctx = context.map { "\($0.text) at \($0.mark): " } ?? ""
            return "\(mark): \(kind) error: \(ctx)\(problem)"
        }
        switch self {
        case let .reader(problem, offset, _): return "reader error at byte \(offset): \(problem)"
        case let .scanner(context, problem, mark): return located("scanner", context, problem, mark)
        case let .parser(context, problem, mark): return located("parser", context, problem, mark)
        case let .composer(context, problem, mark): return located("composer", context, problem, mark)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return "\(context.mark): duplicate key(s) in a mapping: \(keys)"
        case .memory: return "libyaml ran out of memory"
        }
    }
}

/// Bounds on what a document may expand to. Aliases copy their anchored node, so a few lines of
/// nested aliases ("billion laughs") would expand to billions of nodes; both bounds count the
/// tree after expansion.
package struct ComposeLimits: Sendable {
    /// Nodes in the expanded tree (scalars and collections).
    package var maxNodes: Int
    /// Nesting of collections, root included.
    package var maxDepth: Int

    package init(maxNodes: Int = 1_000_000, maxDepth: Int = 512) {
        self.maxNodes = maxNodes
        self.maxDepth = maxDepth
    }
}

/// Composes the single YAML document in `yaml` into a tree; nil when the stream holds no
/// document (empty text, only comments). A second document is an error, as is anything libyaml
/// refuses, a key repeated in one mapping, an undefined alias, or a tree over `limits`.
package func compose(yaml: String, limits: ComposeLimits = ComposeLimits()) throws -> Node? {
    // libyaml wants a non-null pointer even for empty input: a trailing NUL it is not told about.
    var bytes = Array(yaml.utf8)
    let count = bytes.count
    bytes.append(0)
    return try bytes.withUnsafeBufferPointer { buffer -> Node? in
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { throw YAMLError.memory }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, buffer.baseAddress, count)
        var composer = Composer(parser: parser, limits: limits)
        return try composer.document()
    }
}

/// One libyaml event, copied out of libyaml's buffers.
private enum Event {
    case streamStart, streamEnd, documentStart, documentEnd
    case alias(anchor: String, mark: Mark)
    case scalar(Node.Scalar, anchor: String?)
    case sequenceStart(tag: YAMLTag, style: Node.CollectionStyle, anchor: String?, mark: Mark)
    case mappingStart(tag: YAMLTag, style: Node.CollectionStyle, anchor: String?, mark: Mark)
    case sequenceEnd, mappingEnd
}

/// An open collection: its children so far (a mapping's as key, value, key, value...).
private struct Frame {
    var isMapping: Bool
    var tag: YAMLTag
    var style: Node.CollectionStyle
    var anchor: String?
    var mark: Mark
    var children: [Node] = []
    /// Nodes below and including this one, after alias expansion.
    var size = 1
    /// Levels below and including this one.
    var height = 1
}

private struct Composer {
    let parser: UnsafeMutablePointer<yaml_parser_t>
    let limits: ComposeLimits
    /// Anchored nodes with their expanded size and height; a later anchor of the same name wins.
    var anchors: [String: (node: Node, size: Int, height: Int)] = [:]
    var stack: [Frame] = []
    var total = 0
    /// Where the last event read starts.
    var lastMark = Mark(line: 1, column: 1)

    init(parser: UnsafeMutablePointer<yaml_parser_t>, limits: ComposeLimits) {
        self.parser = parser
        self.limits = limits
    }

    mutating func document() throws -> Node? {
        guard case .streamStart = try next() else { throw composerError("expected the stream to start", Mark(line: 1, column: 1)) }
        switch try next() {
        case .streamEnd: return nil
        case .documentStart: break
        default: throw composerError("expected a document", Mark(line: 1, column: 1))
        }
        let root = try node()
        guard case .documentEnd = try next() else { throw composerError("expected the document to end", root.mark) }
        switch try next() {
        case .streamEnd: return root
        default:
            throw YAMLError.composer(
                context: .init(text: "expected a single document in the stream", mark: Mark(line: 1, column: 1)),
                problem: "but found another document", mark: lastMark)
        }
    }

    /// Reads events until one whole node is complete, without recursion (depth is bounded by
    /// `limits`, not by the stack).
    mutating func node() throws -> Node {
        while true {
            let event = try next()
            var done: (node: Node, size: Int, height: Int)
            switch event {
            case let .scalar(scalar, anchor):
                try count(1, at: scalar.mark)
                done = (.scalar(scalar), 1, 1)
                if let anchor { anchors[anchor] = done }
            case let .alias(anchor, mark):
                guard let target = anchors[anchor] else {
                    throw YAMLError.composer(context: nil, problem: "found undefined alias '\(anchor)'", mark: mark)
                }
                try count(target.size, at: mark)
                if stack.count + target.height > limits.maxDepth {
                    throw composerError("the alias '\(anchor)' nests deeper than \(limits.maxDepth) levels", mark)
                }
                done = target
            case let .sequenceStart(tag, style, anchor, mark), let .mappingStart(tag, style, anchor, mark):
                try count(1, at: mark)
                if stack.count + 1 > limits.maxDepth {
                    throw composerError("collections nest deeper than \(limits.maxDepth) levels", mark)
                }
                var isMapping = false
                if case .mappingStart = event { isMapping = true }
                stack.append(Frame(isMapping: isMapping, tag: tag, style: style, anchor: anchor, mark: mark))
                continue
            case .sequenceEnd, .mappingEnd:
                guard let frame = stack.popLast() else { throw composerError("unbalanced collection end", Mark(line: 1, column: 1)) }
                let node: Node
                if frame.isMapping {
                    var pairs: [Node.Mapping.Pair] = []
                    pairs.reserveCapacity(frame.children.count / 2)
                    var i = 0
                    while i + 1 < frame.children.count {
                        pairs.append((frame.children[i], frame.children[i + 1]))
                        i += 2
                    }
                    try checkDuplicates(pairs.map(\.key))
                    node = .mapping(Node.Mapping(pairs, tag: frame.tag, style: frame.style, mark: frame.mark))
                } else {
                    node = .sequence(Node.List(frame.children, tag: frame.tag, style: frame.style, mark: frame.mark))
                }
                done = (node, frame.size, frame.height)
                if let anchor = frame.anchor { anchors[anchor] = done }
            default:
                throw composerError("unexpected event in a document", lastMark)
            }
            guard !stack.isEmpty else { return done.node }
            stack[stack.count - 1].children.append(done.node)
            stack[stack.count - 1].size += done.size
            stack[stack.count - 1].height = max(stack[stack.count - 1].height, done.height + 1)
        }
    }

    mutating func count(_ nodes: Int, at mark: Mark) throws {
        total += nodes
        if total > limits.maxNodes {
            throw composerError(
                "the document expands to more than \(limits.maxNodes) nodes (aliases are expanded); refusing it", mark)
        }
    }

    func composerError(_ problem: String, _ mark: Mark) -> YAMLError {
        .composer(context: nil, problem: problem, mark: mark)
    }

    /// Keys equal in text and tag (or, for collection keys, in structure) are refused, as Yams did.
    func checkDuplicates(_ keys: [Node]) throws {
        var seen: [Node: (first: Int, count: Int)] = [:]
        for (i, key) in keys.enumerated() {
            if let entry = seen[key] {
                seen[key] = (entry.first, entry.count + 1)
            } else {
                seen[key] = (i, 1)
            }
        }
        let repeated = seen.filter { $0.value.count > 1 }
        guard !repeated.isEmpty else { return }
        let ordered = repeated.sorted { a, b in
            switch (a.key.scalar, b.key.scalar) {
            case let (x?, y?): return (x.string, a.value.first) < (y.string, b.value.first)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.value.first < b.value.first
            }
        }
        throw YAMLError.duplicatedKeysInMapping(
            duplicates: ordered.map { $0.key.scalar?.string ?? "<collection>" },
            context: .init(text: "first occurrence", mark: keys[ordered[0].value.first].mark))
    }

    /// The next event, or the parser's error.
    mutating func next() throws -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw error() }
        defer { yaml_event_delete(&event) }
        let mark = Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        lastMark = mark
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: string(event.data.alias.anchor) ?? "", mark: mark)
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = data.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self) } ?? ""
            let style: Node.Scalar.Style
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            // libyaml: quoted_implicit for an untagged non-plain scalar, no tag for an untagged
            // plain one, "!" for the non-specific tag (a string).
            let tag: YAMLTag
            if data.quoted_implicit != 0 {
                tag = .str
            } else if let written = string(data.tag) {
                tag = written == "!" ? .str : YAMLTag(written)
            } else {
                tag = style == .plain ? YAMLTag.resolve(plain: text) : .str
            }
            return .scalar(Node.Scalar(text, tag: tag, style: style, mark: mark), anchor: string(data.anchor))
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            let written = data.implicit == 0 ? string(data.tag) : nil
            return .sequenceStart(
                tag: written.flatMap { $0 == "!" ? nil : YAMLTag($0) } ?? .seq,
                style: data.style == YAML_FLOW_SEQUENCE_STYLE ? .flow : .block, anchor: string(data.anchor), mark: mark)
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            let written = data.implicit == 0 ? string(data.tag) : nil
            return .mappingStart(
                tag: written.flatMap { $0 == "!" ? nil : YAMLTag($0) } ?? .map,
                style: data.style == YAML_FLOW_MAPPING_STYLE ? .flow : .block, anchor: string(data.anchor), mark: mark)
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default:
            throw composerError("libyaml produced no event", mark)
        }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    /// The parser's error state as a `YAMLError`.
    private func error() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown problem"
        let mark = Mark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        let context = p.context.map {
            YAMLError.Context(text: String(cString: $0), mark: Mark(line: Int(p.context_mark.line) + 1, column: Int(p.context_mark.column) + 1))
        }
        switch p.error {
        case YAML_MEMORY_ERROR: return .memory
        case YAML_READER_ERROR: return .reader(problem: problem, offset: Int(p.problem_offset), value: p.problem_value)
        case YAML_SCANNER_ERROR: return .scanner(context: context, problem: problem, mark: mark)
        case YAML_PARSER_ERROR: return .parser(context: context, problem: problem, mark: mark)
        default: return .composer(context: context, problem: problem, mark: mark)
        }
    }
}
