import Foundation
import VAECore

/// Structural similarity (Wang, Bovik, Sheikh and Simoncelli 2004) for pixels in [0, 1]: local means,
/// variances and covariance under an 11 × 11 Gaussian window of σ 1.5 (smaller on a smaller image), over
/// the positions where the window fits, K1 = 0.01, K2 = 0.03; the mean over positions and channels.
public enum SSIM {
    public static func index(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, shape: Shape3) -> Double {
        let size = min(11, shape.height - (shape.height + 1) % 2, shape.width - (shape.width + 1) % 2)
        let window = gaussian(size: size, sigma: 1.5)
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        let h = shape.height, w = shape.width, outH = h - size + 1, outW = w - size + 1
        var total = 0.0
        // The five local moments, filtered along rows and then down columns (the window is separable).
        var rows = [Double](repeating: 0, count: 5 * h * outW)
        for c in 0..<shape.channels {
            let plane = c * h * w
            for y in 0..<h {
                for x in 0..<outW {
                    var m = (0.0, 0.0, 0.0, 0.0, 0.0)
                    for k in 0..<size {
                        let u = Double(a[plane + y * w + x + k]), v = Double(b[plane + y * w + x + k]), g = window[k]
                        m.0 += g * u; m.1 += g * v; m.2 += g * u * u; m.3 += g * v * v; m.4 += g * u * v
                    }
                    let o = y * outW + x, n = h * outW
                    rows[o] = m.0; rows[n + o] = m.1; rows[2 * n + o] = m.2; rows[3 * n + o] = m.3; rows[4 * n + o] = m.4
                }
            }
            for y in 0..<outH {
                for x in 0..<outW {
                    var m = (0.0, 0.0, 0.0, 0.0, 0.0)
                    for k in 0..<size {
                        let o = (y + k) * outW + x, n = h * outW, g = window[k]
                        m.0 += g * rows[o]; m.1 += g * rows[n + o]; m.2 += g * rows[2 * n + o]; m.3 += g * rows[3 * n + o]; m.4 += g * rows[4 * n + o]
                    }
                    let va = m.2 - m.0 * m.0, vb = m.3 - m.1 * m.1, cov = m.4 - m.0 * m.1
                    total += (2 * m.0 * m.1 + c1) * (2 * cov + c2) / ((m.0 * m.0 + m.1 * m.1 + c1) * (va + vb + c2))
                }
            }
        }
        return total / Double(shape.channels * outH * outW)
    }

    /// A normalised 1-d Gaussian of `size` taps; the 2-d window is its outer product.
    static func gaussian(size: Int, sigma: Double) -> [Double] {
        let centre = Double(size - 1) / 2
        let line = (0..<size).map { exp(-pow(Double($0) - centre, 2) / (2 * sigma * sigma)) }
        let sum = line.reduce(0, +)
        return line.map { $0 / sum }
    }
}
