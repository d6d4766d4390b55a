import FoundationEssentials
import Glibc

/// Terminal facts and colour, honouring `NO_COLOR` (https://no-color.org).
package enum Terminal {
    package static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Colour only on a terminal, and never when `NO_COLOR` is set to anything.
    package static var colorEnabled: Bool {
        ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isTTY(STDOUT_FILENO)
    }

    package enum Color: String, Sendable { case red = "31", green = "32", yellow = "33", bold = "1", dim = "2" }

    /// `text` safe to print: control characters (ESC, CR, BEL, backspace, C1 controls, DEL…)
    /// written as `\x1b` or `\u{9b}`, so text that came from a server, a registry or a file
    /// cannot move the cursor, retitle the window or hide what was printed. Newlines and tabs
    /// are kept.
    package static func escapingControls(_ text: String) -> String {
        func bad(_ s: Unicode.Scalar) -> Bool {
            (s.value < 0x20 && s != "\n" && s != "\t") || (0x7f...0x9f).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
        }
        guard text.unicodeScalars.contains(where: bad) else { return text }
        var out = ""
        for s in text.unicodeScalars {
            if !bad(s) {
                out.unicodeScalars.append(s)
            } else if s.value < 0x100 {
                out += "\\x" + (s.value < 0x10 ? "0" : "") + String(s.value, radix: 16)
            } else {
                out += "\\u{\(String(s.value, radix: 16))}"
            }
        }
        return out
    }

    package static func paint(_ text: String, _ color: Color, enabled: Bool = Terminal.colorEnabled) -> String {
        enabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}
