import Foundation

/// Principal component analysis to two dimensions, by power iteration on the covariance matrix.
public enum PCA {
    /// Projects `count` rows of `dim` values onto their top two principal components.
    public static func project(_ rows: [Float], count: Int, dim: Int) -> [(x: Float, y: Float)] {
        if dim == 2 { return (0..<count).map { (rows[2 * $0], rows[2 * $0 + 1]) } }
        var mean = [Double](repeating: 0, count: dim)
        for r in 0..<count { for j in 0..<dim { mean[j] += Double(rows[r * dim + j]) } }
        mean = mean.map { $0 / Double(max(count, 1)) }
        var cov = [Double](repeating: 0, count: dim * dim)
        for r in 0..<count {
            for i in 0..<dim {
                let a = Double(rows[r * dim + i]) - mean[i]
                for j in 0..<dim { cov[i * dim + j] += a * (Double(rows[r * dim + j]) - mean[j]) }
            }
        }
        var components: [[Double]] = []
        for c in 0..<2 {
            var v = (0..<dim).map { Double(($0 * 7 + c * 3) % 5) + 1 }
            for _ in 0..<200 {
                var w = [Double](repeating: 0, count: dim)
                for i in 0..<dim { for j in 0..<dim { w[i] += cov[i * dim + j] * v[j] } }
                for u in components {  // stay orthogonal to the components found
                    let d = zip(w, u).map(*).reduce(0, +)
                    for i in 0..<dim { w[i] -= d * u[i] }
                }
                let norm = w.map { $0 * $0 }.reduce(0, +).squareRoot()
                guard norm > 0 else { break }
                v = w.map { $0 / norm }
            }
            components.append(v)
        }
        return (0..<count).map { r in
            let centred = (0..<dim).map { Double(rows[r * dim + $0]) - mean[$0] }
            return (Float(zip(centred, components[0]).map(*).reduce(0, +)), Float(zip(centred, components[1]).map(*).reduce(0, +)))
        }
    }
}
