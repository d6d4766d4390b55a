/// Quoting for values written into generated POSIX shell scripts and sourced config files: the
/// result is one word whose text is exactly `value`, never expanded, split or run.
package enum ShellQuote {
    /// `value` in single quotes, each `'` written as `'\''`. Always quoted, so the reader sees
    /// at a glance that the word is data.
    package static func quote(_ value: String) -> String {
        "'" + value.replacing("'", with: #"'\''"#) + "'"
    }

    /// Several values as separate quoted words.
    package static func words(_ values: [String]) -> String { values.map(quote).joined(separator: " ") }
}
