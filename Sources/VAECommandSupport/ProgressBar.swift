import Foundation

/// A one-line progress bar on standard error, redrawn at most ten times a second when it is a terminal,
/// with the rate and the time left. Elsewhere (logs, CI) only the final line is printed, or, with
/// `logEvery`, also a line every so many seconds (a long batch job's log then shows it moving).
public final class ProgressBar {
    let title: String
    let total: Int
    let start = Date()
    var lastDraw = Date.distantPast
    let interactive = isatty(2) != 0
    let logEvery: Double?

    public init(title: String, total: Int, logEvery: Double? = nil) {
        self.title = title
        self.total = max(total, 1)
        self.logEvery = logEvery
        if !interactive { lastDraw = start }
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    public func update(_ done: Int, _ status: @autoclosure () -> String) {
        let now = Date()
        if interactive {
            guard now.timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
            lastDraw = now
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line(done, status())).utf8))
        } else if let logEvery, now.timeIntervalSince(lastDraw) >= logEvery, done < total {
            lastDraw = now
            FileHandle.standardError.write(Data((line(done, status()) + "\n").utf8))
        }
    }

    public func finish(_ status: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line(total, status) + "\n").utf8))
    }

    func line(_ done: Int, _ status: String) -> String {
        let width = 24
        let filled = min(width, width * done / total)
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let rate = Double(done) / max(elapsed, 1e-9)
        var text = "\(title) [\(bar)] \(done)/\(total) \(String(format: "%.1fk img/s", rate / 1000))"
        if done < total && done > 0 && elapsed > 2 { text += " " + ProgressBar.duration(Double(total - done) / rate) + " left" }
        return status.isEmpty ? text : text + " " + status
    }

    /// 42 s, 3 min 5 s, 2 h 10 min.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
