import Foundation

/// A one-line progress bar on standard error, redrawn at most ten times a second when it is a terminal;
/// elsewhere (logs, CI) only the final line is printed.
public final class ProgressBar {
    let title: String
    let total: Int
    let start = Date()
    var lastDraw = Date.distantPast
    let interactive = isatty(2) != 0

    public init(title: String, total: Int) {
        self.title = title
        self.total = max(total, 1)
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    public func update(_ done: Int, _ status: @autoclosure () -> String) {
        guard interactive, Date().timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
        lastDraw = Date()
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(done, status())).utf8))
    }

    public func finish(_ status: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line(total, status) + "\n").utf8))
    }

    func line(_ done: Int, _ status: String) -> String {
        let width = 24
        let filled = min(width, width * done / total)
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let rate = Double(done) / max(elapsed, 1e-9)
        return "\(title) [\(bar)] \(done)/\(total) \(String(format: "%.1fk img/s", rate / 1000)) \(status)"
    }
}
