import Foundation

/// The per-step reconstruction and KL curves as one SVG: two panels sharing the step axis.
public enum LossCurves {
    public static func svg(history: [(reconstruction: Float, kl: Float)], title: String) -> String {
        let width = 720.0, panelHeight = 220.0, left = 70.0, right = 20.0, top = 52.0, gap = 60.0
        // Autoencoders have no KL term: one panel.
        let panels = history.contains { $0.kl != 0 } ? 2 : 1
        let height = top + Double(panels) * panelHeight + Double(panels - 1) * gap + 40
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        let series: [(String, [Float], String)] = [
            ("reconstruction (nats / image)", history.map(\.reconstruction), "#1f77b4"),
            ("KL (nats / image)", history.map(\.kl), "#d62728"),
        ]
        for (i, (label, values, colour)) in series.prefix(panels).enumerated() {
            let y0 = top + Double(i) * (panelHeight + gap)
            out += panel(values: values, x: left, y: y0, width: width - left - right, height: panelHeight, label: label, colour: colour,
                         xLabel: i == panels - 1 ? "step" : nil)
        }
        return out + "</svg>\n"
    }

    static func panel(values: [Float], x: Double, y: Double, width: Double, height: Double, label: String, colour: String, xLabel: String?) -> String {
        let points = downsample(values, to: 1500)
        let finite = points.filter(\.value.isFinite).map(\.value)
        var lo = Double(finite.min() ?? 0), hi = Double(finite.max() ?? 1)
        if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
        let steps = Double(max(values.count - 1, 1))
        var s = "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#444\"/>\n"
        s += "<text x=\"\(x)\" y=\"\(y - 7)\" fill=\"\(colour)\">\(escape(label))</text>\n"
        for t in 0...4 {
            let v = lo + (hi - lo) * Double(t) / 4
            let ty = y + height - height * Double(t) / 4
            s += "<line x1=\"\(x - 4)\" y1=\"\(ty)\" x2=\"\(x)\" y2=\"\(ty)\" stroke=\"#444\"/>"
            s += "<text x=\"\(x - 7)\" y=\"\(ty + 4)\" text-anchor=\"end\">\(format(v))</text>\n"
            let sx = x + width * Double(t) / 4
            s += "<line x1=\"\(sx)\" y1=\"\(y + height)\" x2=\"\(sx)\" y2=\"\(y + height + 4)\" stroke=\"#444\"/>"
            s += "<text x=\"\(sx)\" y=\"\(y + height + 17)\" text-anchor=\"middle\">\(Int((steps * Double(t) / 4).rounded()))</text>\n"
        }
        if let xLabel { s += "<text x=\"\(x + width / 2)\" y=\"\(y + height + 34)\" text-anchor=\"middle\">\(xLabel)</text>\n" }
        let path = points.filter(\.value.isFinite).map { p in
            let px = x + width * Double(p.step) / steps
            let py = y + height - height * (Double(p.value) - lo) / (hi - lo)
            return String(format: "%.1f,%.1f", px, py)
        }.joined(separator: " ")
        s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.2\" points=\"\(path)\"/>\n"
        return s
    }

    /// At most `n` points: means over equal runs of steps.
    static func downsample(_ values: [Float], to n: Int) -> [(step: Int, value: Float)] {
        guard values.count > n else { return values.enumerated().map { ($0.offset, $0.element) } }
        let run = (values.count + n - 1) / n
        return stride(from: 0, to: values.count, by: run).map { start in
            let slice = values[start..<min(start + run, values.count)]
            return (start + slice.count / 2, slice.reduce(0, +) / Float(slice.count))
        }
    }

    static func format(_ v: Double) -> String { abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.3g", v) }
    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") }
}
