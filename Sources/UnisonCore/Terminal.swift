import Foundation

/// Terminal facts and colour, honouring `NO_COLOR` (https://no-color.org).
public enum Terminal {
    public static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Colour only on a terminal, and never when `NO_COLOR` is set to anything.
    public static var colorEnabled: Bool {
        ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isTTY(STDOUT_FILENO)
    }

    public enum Color: String, Sendable { case red = "31", green = "32", yellow = "33", bold = "1", dim = "2" }

    public static func paint(_ text: String, _ color: Color, enabled: Bool = Terminal.colorEnabled) -> String {
        enabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}
