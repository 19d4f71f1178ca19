import Foundation

/// A rate-distortion plot as SVG: quality (PSNR) against bytes per image on a log axis, one line of
/// points per codec, with a legend.
public enum RateDistortionPlot {
    public struct Series {
        public var name: String
        public var points: [(bytes: Double, psnr: Double)]
        public init(name: String, points: [(bytes: Double, psnr: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public static func svg(_ series: [Series], title: String) -> String {
        let left = 70.0, top = 40.0, width = 560.0, height = 380.0
        let all = series.flatMap(\.points)
        let xs = all.map { log10(max($0.bytes, 1e-3)) }, ys = all.map(\.psnr)
        let x0 = (xs.min() ?? 0).rounded(.down), x1 = max((xs.max() ?? 1).rounded(.up), x0 + 1)
        let (y0, y1) = ScatterPlot.padded(ys.min() ?? 0, ys.max() ?? 1)
        func px(_ bytes: Double) -> Double { left + width * (log10(max(bytes, 1e-3)) - x0) / (x1 - x0) }
        func py(_ psnr: Double) -> Double { top + height - height * (psnr - y0) / (y1 - y0) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + width + 250))" height="\(Int(top + height + 60))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left + width / 2)" y="24" text-anchor="middle" font-size="15">\(LossCurves.escape(title))</text>
        <rect x="\(left)" y="\(top)" width="\(width)" height="\(height)" fill="none" stroke="#444"/>

        """
        for e in Int(x0)...Int(x1) {
            for m in [1.0, 2, 5] where Double(e) + log10(m) <= x1 {
                let x = px(m * pow(10, Double(e)))
                s += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(top + height)\" stroke=\"#ddd\"/>"
                s += "<text x=\"\(x)\" y=\"\(top + height + 16)\" text-anchor=\"middle\">\(LossCurves.format(m * pow(10, Double(e))))</text>\n"
            }
        }
        for t in 0...4 {
            let v = y0 + (y1 - y0) * Double(t) / 4
            s += "<text x=\"\(left - 6)\" y=\"\(py(v) + 4)\" text-anchor=\"end\">\(LossCurves.format(v))</text>\n"
        }
        s += "<text x=\"\(left + width / 2)\" y=\"\(top + height + 36)\" text-anchor=\"middle\">bytes per image (log scale)</text>\n"
        s += "<text x=\"18\" y=\"\(top + height / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(top + height / 2))\">PSNR (dB)</text>\n"
        for (k, line) in series.enumerated() {
            let colour = ScatterPlot.palette[k % ScatterPlot.palette.count]
            let path = line.points.sorted { $0.bytes < $1.bytes }.map { String(format: "%.1f,%.1f", px($0.bytes), py($0.psnr)) }
            s += "<polyline points=\"\(path.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>\n"
            for p in line.points { s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>\n", px(p.bytes), py(p.psnr), colour) }
            let y = top + 10 + Double(k) * 20
            s += "<circle cx=\"\(left + width + 20)\" cy=\"\(y)\" r=\"4\" fill=\"\(colour)\"/>"
            s += "<text x=\"\(left + width + 32)\" y=\"\(y + 4)\">\(LossCurves.escape(line.name))</text>\n"
        }
        return s + "</svg>\n"
    }
}
