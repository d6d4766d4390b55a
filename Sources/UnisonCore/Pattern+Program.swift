/// One instruction of a compiled pattern (a backtracking program: `split` tries its first
/// target, and on failure its second).
enum PatternInst: Sendable {
    case scalar(Unicode.Scalar)
    /// A scalar compared after case folding (`scalar` is already folded).
    case folded(Unicode.Scalar)
    /// `classes[index]`.
    case set(Int, fold: Bool)
    case any(dotAll: Bool)
    case split(Int, Int)
    case jump(Int)
    /// Records the position in a slot (captures, then loop registers).
    case save(Int)
    case anchor(PatternAnchor)
    /// A lookaround whose body starts at `body` and ends with `match`; a lookbehind tries the
    /// starts `length` scalars back.
    case look(body: Int, ahead: Bool, negated: Bool, min: Int, max: Int)
    /// Leaves the loop (jumps to `exit`) when the position still equals the slot's: a loop
    /// body that matched nothing ends the loop, keeping its captures (ICU's and Perl's way).
    case progress(Int, exit: Int)
    case match
}

struct PatternProgram: Sendable {
    var code: [PatternInst] = []
    var classes: [PatternClass] = []
    var captureCount = 0
    var names: [String: Int] = [:]
    var slotCount = 2
    /// The scalars a match can start with, when the pattern cannot match empty.
    var firstScalars: PatternClass?
    var firstFold = false
    /// Whether a match can only start at offset 0.
    var anchoredAtStart = false
}

enum PatternCompiler {
    static func compile(_ parsed: PatternParser.Parsed) throws(PatternError) -> PatternProgram {
        var c = Compiler()
        c.program.captureCount = parsed.captures
        c.program.names = parsed.names
        c.program.slotCount = 2 * (parsed.captures + 1)
        try c.emit(parsed.node)
        c.append(.match)
        var queued = 0
        while queued < c.looks.count {
            let (node, at) = c.looks[queued]
            queued += 1
            let body = c.program.code.count
            try c.emit(node)
            c.append(.match)
            if case let .look(_, ahead, negated, min, max) = c.program.code[at] {
                c.program.code[at] = .look(body: body, ahead: ahead, negated: negated, min: min, max: max)
            }
            try c.checkSize()
        }
        if parsed.node.length.min > 0, let first = first(parsed.node, fold: &c.program.firstFold) {
            c.program.firstScalars = PatternClass(items: first, negated: false)
        }
        c.program.anchoredAtStart = anchored(parsed.node)
        return c.program
    }

    /// Class items that cover every scalar a match of `node` can start with (a superset), or
    /// nil when that is not worth knowing.
    static func first(_ node: PatternNode, fold: inout Bool) -> [PatternClass.Item]? {
        switch node {
        case let .scalar(s, f):
            if f { fold = true }
            return [.range(s.value, s.value)]
        case let .set(set, f):
            guard !set.negated else { return nil }
            if f { fold = true }
            return set.items
        case .any: return nil
        case .empty, .anchor, .look: return []
        case let .group(inner, _), let .quantified(inner, _, _, _): return first(inner, fold: &fold)
        case let .alternation(items):
            var all: [PatternClass.Item] = []
            for item in items {
                guard let f = first(item, fold: &fold) else { return nil }
                all += f
            }
            return all
        case let .concat(items):
            var all: [PatternClass.Item] = []
            for item in items {
                guard let f = first(item, fold: &fold) else { return nil }
                all += f
                if item.length.min > 0 { return all }
            }
            return all
        }
    }

    static func anchored(_ node: PatternNode) -> Bool {
        switch node {
        case .anchor(.inputStart), .anchor(.lineStart(multiline: false)): return true
        case let .concat(items): return items.first.map(anchored) ?? false
        case let .group(inner, _): return anchored(inner)
        default: return false
        }
    }

    struct Compiler {
        var program = PatternProgram()
        var looks: [(PatternNode, Int)] = []

        mutating func append(_ i: PatternInst) { program.code.append(i) }

        func checkSize() throws(PatternError) {
            if program.code.count > Pattern.maximumProgramSize { throw .tooLarge(size: Pattern.maximumProgramSize) }
        }

        mutating func register() -> Int {
            program.slotCount += 1
            return program.slotCount - 1
        }

        mutating func emit(_ node: PatternNode) throws(PatternError) {
            try checkSize()
            switch node {
            case .empty: break
            case let .scalar(s, fold): append(fold ? .folded(s) : .scalar(s))
            case let .set(set, fold):
                program.classes.append(set)
                append(.set(program.classes.count - 1, fold: fold))
            case let .any(dotAll): append(.any(dotAll: dotAll))
            case let .anchor(a): append(.anchor(a))
            case let .concat(items):
                for item in items { try emit(item) }
            case let .alternation(items):
                var jumps: [Int] = []
                for (k, item) in items.enumerated() {
                    let split = program.code.count
                    if k < items.count - 1 { append(.split(split + 1, 0)) }
                    try emit(item)
                    if k < items.count - 1 {
                        jumps.append(program.code.count)
                        append(.jump(0))
                        program.code[split] = .split(split + 1, program.code.count)
                    }
                }
                for j in jumps { program.code[j] = .jump(program.code.count) }
            case let .group(inner, capture):
                if let capture { append(.save(2 * capture)) }
                try emit(inner)
                if let capture { append(.save(2 * capture + 1)) }
            case let .look(inner, ahead, negated):
                let l = inner.length
                looks.append((inner, program.code.count))
                append(.look(body: 0, ahead: ahead, negated: negated, min: l.min, max: l.max ?? 0))
            case let .quantified(inner, min, max, greedy):
                try quantified(inner, min: min, max: max, greedy: greedy)
            }
        }

        mutating func split(_ preferred: Int, _ other: Int, greedy: Bool) -> PatternInst {
            greedy ? .split(preferred, other) : .split(other, preferred)
        }

        mutating func quantified(_ inner: PatternNode, min: Int, max: Int?, greedy: Bool) throws(PatternError) {
            // Repeating what matches nothing is the same as doing it at most once.
            if inner.length.max == 0 { return try quantified0(inner, min: Swift.min(min, 1), max: max.map { Swift.min($0, 1) } ?? 1, greedy: greedy) }
            try quantified0(inner, min: min, max: max, greedy: greedy)
        }

        mutating func quantified0(_ inner: PatternNode, min: Int, max: Int?, greedy: Bool) throws(PatternError) {
            let mayBeEmpty = inner.length.min == 0
            if let max {
                for _ in 0..<min { try emit(inner) }
                var splits: [Int] = []
                for _ in 0..<(max - min) {
                    try checkSize()
                    splits.append(program.code.count)
                    append(.jump(0))
                    try emit(inner)
                }
                let end = program.code.count
                for s in splits { program.code[s] = split(s + 1, end, greedy: greedy) }
            } else if min > 0 {
                // x{min-1} then L: [save r] x [progress r, exit]; split(L, exit)
                for _ in 0..<(min - 1) { try emit(inner) }
                let r = mayBeEmpty ? register() : -1
                let loop = program.code.count
                if mayBeEmpty { append(.save(r)) }
                try emit(inner)
                let check = program.code.count
                if mayBeEmpty { append(.jump(0)) }
                let exit = program.code.count + 1
                append(split(loop, exit, greedy: greedy))
                if mayBeEmpty { program.code[check] = .progress(r, exit: exit) }
            } else {
                // L: split(B, exit); B: [save r] x [progress r, exit]; jump L
                let r = mayBeEmpty ? register() : -1
                let loop = program.code.count
                append(.jump(0))
                if mayBeEmpty { append(.save(r)) }
                try emit(inner)
                let check = program.code.count
                if mayBeEmpty { append(.jump(0)) }
                append(.jump(loop))
                let exit = program.code.count
                program.code[loop] = split(loop + 1, exit, greedy: greedy)
                if mayBeEmpty { program.code[check] = .progress(r, exit: exit) }
            }
            try checkSize()
        }
    }
}

/// Runs a program over an input with an explicit backtracking stack (never recursion in
/// proportion to the input; lookarounds recurse once per nesting level of the pattern).
struct PatternMatcher {
    let program: PatternProgram
    let input: PatternInput
    let limit: Int

    init(program: PatternProgram, input: PatternInput) {
        self.program = program
        self.input = input
        limit = Pattern.stepLimit(inputLength: input.scalars.count)
    }

    func attempt(at start: Int, requiredEnd: Int? = nil, budget: inout Int) throws(PatternError) -> PatternMatch? {
        guard start >= 0, start <= input.scalars.count else { return nil }
        var slots = [Int](repeating: -1, count: program.slotCount)
        guard let end = try run(0, at: start, slots: &slots, requiredEnd: requiredEnd, budget: &budget) else { return nil }
        var groups: [Range<Int>?] = [start..<end]
        for g in 1...max(1, program.captureCount) where g <= program.captureCount {
            let a = slots[2 * g]
            let b = slots[2 * g + 1]
            groups.append(a >= 0 && b >= a ? a..<b : nil)
        }
        return PatternMatch(input: input, groups: groups, names: program.names)
    }

    /// A backtracking point (`pc >= 0`: resume at `pc` at position `value`) or an undo record
    /// (`pc < 0`: slot `-pc - 1` had `value`).
    struct Frame {
        var pc: Int
        var value: Int
    }

    func isWord(_ k: Int) -> Bool { k >= 0 && k < input.scalars.count && PatternScalars.isWord(input.scalars[k]) }

    func anchor(_ a: PatternAnchor, _ pos: Int) -> Bool {
        let s = input.scalars
        let n = s.count
        switch a {
        case .inputStart: return pos == 0
        case .inputEnd: return pos == n
        case .lineStart(false): return pos == 0
        case .lineEnd(false): return pos == n
        case .lineStart(true):
            return pos == 0 || (PatternScalars.isLineTerminator(s[pos - 1]) && !(s[pos - 1] == "\r" && pos < n && s[pos] == "\n"))
        case .lineEnd(true):
            return pos == n || (PatternScalars.isLineTerminator(s[pos]) && !(s[pos] == "\n" && pos > 0 && s[pos - 1] == "\r"))
        case .inputEndBeforeTerminator:
            return pos == n || (pos == n - 1 && PatternScalars.isLineTerminator(s[pos])) || (pos == n - 2 && s[pos] == "\r" && s[pos + 1] == "\n")
        case let .wordBoundary(wanted): return (isWord(pos - 1) != isWord(pos)) == wanted
        }
    }

    /// Runs from `pc` at `start`; the end position of the first way through, or nil.
    func run(_ startPC: Int, at start: Int, slots: inout [Int], requiredEnd: Int?, budget: inout Int) throws(PatternError) -> Int? {
        let s = input.scalars
        let n = s.count
        let code = program.code
        var stack: [Frame] = []
        var pc = startPC
        var pos = start
        while true {
            budget -= 1
            if budget < 0 { throw .tooComplex(steps: limit) }
            var ok = true
            switch code[pc] {
            case let .scalar(c):
                if pos < n, s[pos] == c { pos += 1; pc += 1 } else { ok = false }
            case let .folded(c):
                if pos < n, s[pos] == c || PatternScalars.fold(s[pos]) == c { pos += 1; pc += 1 } else { ok = false }
            case let .set(k, fold):
                if pos < n, program.classes[k].contains(s[pos], fold: fold) { pos += 1; pc += 1 } else { ok = false }
            case let .any(dotAll):
                if pos < n, dotAll || !PatternScalars.isLineTerminator(s[pos]) { pos += 1; pc += 1 } else { ok = false }
            case let .split(a, b):
                stack.append(Frame(pc: b, value: pos))
                pc = a
            case let .jump(a): pc = a
            case let .save(k):
                stack.append(Frame(pc: -k - 1, value: slots[k]))
                slots[k] = pos
                pc += 1
            case let .progress(k, exit):
                pc = slots[k] == pos ? exit : pc + 1
            case let .anchor(a):
                if anchor(a, pos) { pc += 1 } else { ok = false }
            case let .look(body, ahead, negated, minLength, maxLength):
                var sub = slots
                var found = false
                if ahead {
                    found = try run(body, at: pos, slots: &sub, requiredEnd: nil, budget: &budget) != nil
                } else {
                    var from = pos - minLength
                    while from >= 0, from >= pos - maxLength, !found {
                        sub = slots
                        found = try run(body, at: from, slots: &sub, requiredEnd: pos, budget: &budget) != nil
                        from -= 1
                    }
                }
                if found == negated {
                    ok = false
                } else {
                    if !negated {
                        for k in 0..<slots.count where sub[k] != slots[k] {
                            stack.append(Frame(pc: -k - 1, value: slots[k]))
                            slots[k] = sub[k]
                        }
                    }
                    pc += 1
                }
            case .match:
                if requiredEnd == nil || requiredEnd == pos { return pos }
                ok = false
            }
            if ok { continue }
            // Backtrack: undo slot writes up to the latest alternative.
            while true {
                guard let f = stack.popLast() else { return nil }
                if f.pc < 0 {
                    slots[-f.pc - 1] = f.value
                } else {
                    pc = f.pc
                    pos = f.value
                    break
                }
            }
        }
    }
}
