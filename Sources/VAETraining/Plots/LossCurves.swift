import Foundation

/// The per-step reconstruction and KL curves as one SVG: two panels sharing the step axis, with the test
/// set's figures after each epoch as dots and the epoch ends as dashed lines. The y axis covers the steps
/// after the first twentieth (whose loss, far from the rest, would flatten the curve into a line) and the
/// test points; the first steps run off the axis.
public enum LossCurves {
    public static func svg(history: [(reconstruction: Float, kl: Float)], tests: [(epoch: Int, reconstruction: Float, kl: Float)] = [],
                           stepsPerEpoch: Int = 0, title: String) -> String {
        let width = 720.0, panelHeight = 220.0, left = 70.0, right = 20.0, top = 52.0, gap = 60.0
        // Autoencoders have no KL term: one panel.
        let panels = history.contains { $0.kl != 0 } ? 2 : 1
        let height = top + Double(panels) * panelHeight + Double(panels - 1) * gap + 40
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        let series: [(String, [Float], [Float], String)] = [
            ("reconstruction (nats / image)", history.map(\.reconstruction), tests.map(\.reconstruction), "#1f77b4"),
            ("KL (nats / image)", history.map(\.kl), tests.map(\.kl), "#d62728"),
        ]
        let testSteps = tests.map { $0.epoch * stepsPerEpoch }
        for (i, (label, values, testValues, colour)) in series.prefix(panels).enumerated() {
            let y0 = top + Double(i) * (panelHeight + gap)
            let frame = Frame(x: left, y: y0, width: width - left - right, height: panelHeight, steps: Double(max(values.count - 1, 1)))
            out += panel(values: values, tests: stepsPerEpoch > 0 ? Array(zip(testSteps, testValues)) : [], stepsPerEpoch: stepsPerEpoch,
                         frame: frame, index: i, label: label, colour: colour, xLabel: i == panels - 1 ? "step" : nil)
        }
        return out + "</svg>\n"
    }

    /// A panel's place on the page and its step range.
    struct Frame {
        var x, y, width, height, steps: Double
        func px(_ step: Double) -> Double { x + width * step / steps }
    }

    /// The y range: the values after the first `burnIn` steps, and the test points.
    static func yRange(_ values: [Float], tests: [Float]) -> (Double, Double) {
        let burnIn = values.count >= 20 ? values.count / 20 : 0
        let kept = (values.dropFirst(burnIn) + tests).filter(\.isFinite).map(Double.init)
        var lo = kept.min() ?? 0, hi = kept.max() ?? 1
        if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
        let margin = 0.04 * (hi - lo)
        return (lo - margin, hi + margin)
    }

    static func panel(values: [Float], tests: [(step: Int, value: Float)], stepsPerEpoch: Int, frame f: Frame, index: Int, label: String,
                      colour: String, xLabel: String?) -> String {
        let points = downsample(values, to: 1500)
        let (lo, hi) = yRange(values, tests: tests.map(\.value))
        func py(_ v: Float) -> Double { f.y + f.height - f.height * (Double(v) - lo) / (hi - lo) }
        var s = "<clipPath id=\"panel\(index)\"><rect x=\"\(f.x)\" y=\"\(f.y)\" width=\"\(f.width)\" height=\"\(f.height)\"/></clipPath>\n"
        s += "<rect x=\"\(f.x)\" y=\"\(f.y)\" width=\"\(f.width)\" height=\"\(f.height)\" fill=\"none\" stroke=\"#444\"/>\n"
        s += "<text x=\"\(f.x)\" y=\"\(f.y - 7)\" fill=\"\(colour)\">\(escape(label))</text>\n"
        if !tests.isEmpty {
            s += "<circle cx=\"\(f.x + f.width - 150)\" cy=\"\(f.y - 11)\" r=\"3.5\" fill=\"white\" stroke=\"black\" stroke-width=\"1.5\"/>"
            s += "<text x=\"\(f.x + f.width - 142)\" y=\"\(f.y - 7)\">test set, after each epoch</text>\n"
        }
        for t in 0...4 {
            let v = lo + (hi - lo) * Double(t) / 4
            let ty = f.y + f.height - f.height * Double(t) / 4
            s += "<line x1=\"\(f.x - 4)\" y1=\"\(ty)\" x2=\"\(f.x)\" y2=\"\(ty)\" stroke=\"#444\"/>"
            s += "<text x=\"\(f.x - 7)\" y=\"\(ty + 4)\" text-anchor=\"end\">\(format(v))</text>\n"
            let sx = f.x + f.width * Double(t) / 4
            s += "<line x1=\"\(sx)\" y1=\"\(f.y + f.height)\" x2=\"\(sx)\" y2=\"\(f.y + f.height + 4)\" stroke=\"#444\"/>"
            s += "<text x=\"\(sx)\" y=\"\(f.y + f.height + 17)\" text-anchor=\"middle\">\(Int((f.steps * Double(t) / 4).rounded()))</text>\n"
        }
        if let xLabel { s += "<text x=\"\(f.x + f.width / 2)\" y=\"\(f.y + f.height + 34)\" text-anchor=\"middle\">\(xLabel)</text>\n" }
        // Epoch ends: dashed lines, numbered when there is room.
        if stepsPerEpoch > 0 {
            let epochs = values.count / stepsPerEpoch
            let every = max(1, (epochs + 9) / 10)
            for e in stride(from: 1, through: epochs, by: 1) where Double(e * stepsPerEpoch) <= f.steps {
                let ex = f.px(Double(e * stepsPerEpoch))
                s += "<line x1=\"\(ex)\" y1=\"\(f.y)\" x2=\"\(ex)\" y2=\"\(f.y + f.height)\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>"
                if e % every == 0 { s += "<text x=\"\(ex - 3)\" y=\"\(f.y + 12)\" text-anchor=\"end\" fill=\"#888\" font-size=\"10\">epoch \(e)</text>" }
                s += "\n"
            }
        }
        let path = points.filter(\.value.isFinite).map { p in String(format: "%.1f,%.1f", f.px(Double(p.step)), py(p.value)) }.joined(separator: " ")
        s += "<polyline clip-path=\"url(#panel\(index))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.2\" points=\"\(path)\"/>\n"
        if let first = values.first, first.isFinite, !(f.y...(f.y + f.height)).contains(py(first)) {
            s += "<text x=\"\(f.x + 6)\" y=\"\(f.y + 26)\" fill=\"#888\" font-size=\"10\">first steps off the axis (from \(format(Double(first))))</text>\n"
        }
        for (step, value) in tests where value.isFinite {
            s += "<circle cx=\"\(f.px(Double(step)))\" cy=\"\(py(value))\" r=\"3.5\" fill=\"white\" stroke=\"black\" stroke-width=\"1.5\"/>\n"
        }
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
