import FoundationEssentials
import Glibc

/// One progress helper for long work: a redrawn bar on a terminal, a plain line every few
/// seconds otherwise (CI logs), nothing when quiet. Thread-safe; reports go to stderr.
package final class ProgressReporter: @unchecked Sendable {
    package enum Style: Sendable { case bar, lines, silent }

    private let lock = Lock()
    private let label: String
    private let total: Int64?
    private let style: Style
    private let interval: TimeInterval
    private var done: Int64 = 0
    private var lastDraw: Date = .distantPast
    private var finished = false
    private let started = Date()
    private let sink: @Sendable (String) -> Void

    /// `total` in bytes; nil when unknown. `interval` is how often a report is drawn
    /// (default 0.1 s for a bar, 5 s for plain lines); `sink` receives the text (stderr).
    package init(
        _ label: String, total: Int64? = nil, style: Style = ProgressReporter.defaultStyle,
        interval: TimeInterval? = nil,
        sink: @escaping @Sendable (String) -> Void = { FileIO.standardError.write($0) }
    ) {
        self.label = label
        self.total = total
        self.style = style
        self.interval = interval ?? (style == .bar ? 0.1 : 5)
        self.sink = sink
    }

    package static var defaultStyle: Style {
        if ProcessInfo.processInfo.environment["UNISONCTL_QUIET"] != nil { return .silent }
        return Terminal.isTTY(STDERR_FILENO) ? .bar : .lines
    }

    package func advance(by units: Int64) {
        lock.lock(); defer { lock.unlock() }
        done += units
        drawIfDue()
    }

    package func set(_ units: Int64) {
        lock.lock(); defer { lock.unlock() }
        done = units
        drawIfDue()
    }

    package func finish(_ message: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        let elapsed = NumberText.fixed(Date().timeIntervalSince(started), digits: 1) + "s"
        switch style {
        case .silent: return
        case .bar: write("\r\u{1B}[2K\(label): \(message ?? "done") (\(elapsed))\n")
        case .lines: write("\(label): \(message ?? "done") (\(elapsed))\n")
        }
    }

    private func drawIfDue() {
        let now = Date()
        guard style != .silent, !finished, now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let amount = Self.formatBytes(done)
        switch style {
        case .bar:
            if let total, total > 0 {
                let fraction = min(1, Double(done) / Double(total))
                let width = 30
                let filled = Int(fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                write("\r\u{1B}[2K\(label) [\(bar)] \(Int(fraction * 100))% \(amount)")
            } else {
                write("\r\u{1B}[2K\(label) \(amount)")
            }
        case .lines:
            if let total, total > 0 {
                write("\(label): \(Int(Double(done) / Double(total) * 100))% (\(amount) of \(Self.formatBytes(total)))\n")
            } else {
                write("\(label): \(amount)\n")
            }
        case .silent: break
        }
    }

    private func write(_ s: String) { sink(s) }

    /// Bytes in binary units with one decimal, locale-independent.
    package static func formatBytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : "\(NumberText.fixed(value, digits: 1)) \(units[unit])"
    }
}
