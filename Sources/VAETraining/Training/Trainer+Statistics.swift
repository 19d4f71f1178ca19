import Foundation
import VAECore

extension Trainer {
    /// The mean activation of the code units over all of `data` (the sparse AE's ρ̂, averaged over units).
    public func meanCodeActivation(_ data: Dataset) -> Double {
        var total = 0.0
        var first = 0
        let n = options.architecture.codeSize
        while first < data.count {
            let rows = min(options.batchSize, data.count - first)
            loadBatch(data, indices: first..<(first + rows), noise: RandomStream(seed: options.seed, purpose: .evaluationCorruption), firstItem: UInt64(first))
            encodeForward(rows: rows)
            for i in 0..<(rows * n) { total += Double(codeBatch[i]) }
            first += rows
        }
        return total / Double(max(data.count * n, 1))
    }
}

extension Trainer {
    /// Per latent dimension over `data`: the mean KL(q(z_j | x) ‖ N(0, 1)) and the activity Var_x(μ_j).
    /// A dimension is active when its activity exceeds 0.01 (Burda et al. 2016); a collapsed one has KL ≈ 0.
    public func latentStatistics(_ data: Dataset) -> (kl: [Double], activity: [Double]) {
        let a = options.architecture
        let d = a.latent
        guard a.kind.isVariational else { return ([], []) }
        var kl = [Double](repeating: 0, count: d), sum = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        var first = 0
        while first < data.count {
            let rows = min(options.batchSize, data.count - first)
            loadBatch(data, indices: first..<(first + rows))
            encodeForward(rows: rows)
            for r in 0..<rows {
                for j in 0..<d {
                    let mu = Double(codeBatch[r * 2 * d + j])
                    let lv = Double(clampLogVariance(codeBatch[r * 2 * d + d + j]))
                    kl[j] += gaussianKL(mu: mu, logVariance: lv, variance: Foundation.exp(lv))
                    sum[j] += mu
                    squares[j] += mu * mu
                }
            }
            first += rows
        }
        let n = Double(max(data.count, 1))
        return (kl.map { $0 / n }, (0..<d).map { squares[$0] / n - (sum[$0] / n) * (sum[$0] / n) })
    }
}
