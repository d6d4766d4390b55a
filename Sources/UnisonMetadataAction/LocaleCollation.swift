/// String order of JavaScript's `a.localeCompare(b)` (ICU root collation, CLDR) for the
/// characters label keys use: punctuation and symbols sort before digits, digits before
/// letters, letters compare without case first and lower case wins a tie. Plain code-point
/// order would put `_` after letters and `-` after `.` differently; the action's label order
/// depends on this.
enum LocaleCollation {
    /// CLDR root order of ASCII punctuation and symbols (variable and symbol characters).
    static let symbolOrder: [Character] = [
        "\t", "\n", "\u{0B}", "\u{0C}", "\r", " ",
        "_", "-", ",", ";", ":", "!", "?", ".", "'", "\"", "(", ")", "[", "]", "{", "}", "@", "*", "/", "\\",
        "&", "#", "%", "`", "^", "+", "<", "=", ">", "|", "~", "$",
    ]

    static let symbolWeight: [Character: Int] = Dictionary(uniqueKeysWithValues: symbolOrder.enumerated().map { ($1, $0 + 1) })

    /// Primary weight: symbols, then digits, then letters (case folded), then everything else.
    static func primary(_ c: Character) -> Int {
        if let w = symbolWeight[c] { return w }
        if let a = c.asciiValue {
            if (48...57).contains(a) { return 100 + Int(a - 48) }
            if (65...90).contains(a) { return 200 + Int(a - 65) }
            if (97...122).contains(a) { return 200 + Int(a - 97) }
            return 90
        }
        return 1000 + Int(c.unicodeScalars.first!.value)
    }

    /// Negative, zero or positive, like localeCompare.
    static func compare(_ a: String, _ b: String) -> Int {
        let ca = Array(a), cb = Array(b)
        for (x, y) in zip(ca, cb) where primary(x) != primary(y) {
            return primary(x) < primary(y) ? -1 : 1
        }
        if ca.count != cb.count { return ca.count < cb.count ? -1 : 1 }
        // Tertiary: lower case before upper case.
        for (x, y) in zip(ca, cb) where x != y {
            if x.isLowercase, y.isUppercase { return -1 }
            if x.isUppercase, y.isLowercase { return 1 }
            return x.unicodeScalars.first!.value < y.unicodeScalars.first!.value ? -1 : 1
        }
        return 0
    }
}
