import Foundation

/// A scatter plot of labelled 2-d points as SVG, one colour per class, with a legend.
public enum ScatterPlot {
    /// Ten distinguishable colours (matplotlib's tab10); classes beyond ten reuse them.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public static func svg(points: [(x: Float, y: Float)], labels: [Int], classNames: [String], title: String, xLabel: String, yLabel: String) -> String {
        let size = 640.0, left = 60.0, top = 40.0, plot = 500.0
        let xs = points.map { Double($0.x) }, ys = points.map { Double($0.y) }
        let (x0, x1) = padded(xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = padded(ys.min() ?? 0, ys.max() ?? 1)
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(size + 140))" height="\(Int(size))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left + plot / 2)" y="24" text-anchor="middle" font-size="15">\(LossCurves.escape(title))</text>
        <rect x="\(left)" y="\(top)" width="\(plot)" height="\(plot)" fill="none" stroke="#444"/>

        """
        for t in 0...4 {
            let fx = x0 + (x1 - x0) * Double(t) / 4, fy = y0 + (y1 - y0) * Double(t) / 4
            let px = left + plot * Double(t) / 4, py = top + plot - plot * Double(t) / 4
            s += "<text x=\"\(px)\" y=\"\(top + plot + 16)\" text-anchor=\"middle\">\(LossCurves.format(fx))</text>"
            s += "<text x=\"\(left - 6)\" y=\"\(py + 4)\" text-anchor=\"end\">\(LossCurves.format(fy))</text>\n"
        }
        s += "<text x=\"\(left + plot / 2)\" y=\"\(top + plot + 34)\" text-anchor=\"middle\">\(LossCurves.escape(xLabel))</text>\n"
        s += "<text x=\"16\" y=\"\(top + plot / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(top + plot / 2))\">\(LossCurves.escape(yLabel))</text>\n"
        for (i, p) in points.enumerated() {
            let px = left + plot * (Double(p.x) - x0) / (x1 - x0), py = top + plot - plot * (Double(p.y) - y0) / (y1 - y0)
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%@\" fill-opacity=\"0.6\"/>\n", px, py, palette[labels[i] % palette.count])
        }
        for (k, name) in classNames.enumerated() {
            let y = top + 10 + Double(k) * 20
            s += "<circle cx=\"\(left + plot + 20)\" cy=\"\(y)\" r=\"5\" fill=\"\(palette[k % palette.count])\"/>"
            s += "<text x=\"\(left + plot + 32)\" y=\"\(y + 4)\">\(LossCurves.escape(name))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func padded(_ lo: Double, _ hi: Double) -> (Double, Double) {
        let span = max(hi - lo, 1e-6)
        return (lo - 0.05 * span, hi + 0.05 * span)
    }
}
