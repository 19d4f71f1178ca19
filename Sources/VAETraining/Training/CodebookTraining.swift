import Foundation
import VAECore

/// What training a VQ-VAE adds to the trainer (van den Oord et al. 2017): the encoder's grid z_e is
/// snapped to its nearest code vectors z_q, which the decoder reads; the reconstruction's gradient passes
/// from z_q to z_e unchanged (the straight-through estimator). Per image, the loss adds
/// ‖sg(z_e) − z_q‖² (the codebook term, moving the vectors) and β‖z_e − sg(z_q)‖² (the commitment term,
/// keeping the encoder near them), sums over the grid like the reconstruction over the pixels. With EMA
/// updates the codebook term is replaced by moving averages of the vectors assigned to each code
/// (decay 0.99, Laplace smoothing 1e-5): e_k = m_k / n'_k, n'_k the smoothed count. Only the counts are
/// kept (each starts at 1, so an unused code stays where it is): m_k is e_k · n'_k. Every `restartSteps`
/// steps, each code no vector chose since the last check restarts at an encoder output of the current
/// batch, drawn from (seed, step), with a count of 1.
public final class CodebookTraining: @unchecked Sendable {
    static let restartSteps = 100
    static let decay: Float = 0.99
    static let smoothing: Float = 1e-5

    let layer: Int
    let codes: Int, dimension: Int, positions: Int
    let commitment: Float
    let ema: Bool
    /// The code chosen at each position of each row of the last forward pass.
    let indices: AlignedBuffer<Int32>
    /// Per worker: the nearest-code search's scratch.
    let scratch: FloatBuffer
    let scratchPerWorker: Int
    /// How often each code was chosen in the epoch so far, and since the last restart check.
    var epochUsage: [Int], windowUsage: [Int]
    /// EMA state: the moving average of assignments per code.
    let emaCount: FloatBuffer

    init(net: Network, layer: Int, options: TrainingOptions, rows: Int, threads: Int) {
        let spec = net.specs[layer]
        self.layer = layer
        (codes, dimension, positions) = (spec.codebookSize, spec.input.channels, spec.input.height * spec.input.width)
        commitment = options.commitment ?? 0.25
        ema = options.ema ?? false
        indices = AlignedBuffer<Int32>(count: rows * positions)
        scratchPerWorker = codes + codes * positions
        scratch = FloatBuffer(count: threads * scratchPerWorker)
        epochUsage = [Int](repeating: 0, count: codes)
        windowUsage = epochUsage
        emaCount = FloatBuffer([Float](repeating: 1, count: codes))
    }

    var gridCount: Int { dimension * positions }

    func codebook(_ net: Network) -> CodebookLayer {
        guard case .codebook(let c) = net.layer(layer) else { preconditionFailure("layer \(layer) is the codebook") }
        return c
    }

    /// z_q of `rows` grids of z_e, with the chosen codes in `indices`; images split across threads.
    func quantise(_ net: Network, _ z: UnsafePointer<Float>, rows: Int, into zq: UnsafeMutablePointer<Float>, threads: Int) {
        let c = codebook(net)
        let (n, hw, scratch, indices, per) = (gridCount, positions, scratch.pointer, indices.pointer, scratchPerWorker)
        RowParallel.forEachRun(count: rows, workers: threads) { worker, run in
            let first = run.lowerBound
            c.nearest(z + first * n, batch: run.count, into: indices + first * hw, scratch: scratch + worker * per)
            c.lookup(indices + first * hw, batch: run.count, into: zq + first * n)
        }
    }

    /// Σ ‖z_e − z_q‖² over the batch, times 1 + β (codebook and commitment terms), or β with EMA updates.
    func loss(_ z: UnsafePointer<Float>, _ zq: UnsafePointer<Float>, rows: Int) -> Double {
        var total = 0.0
        for i in 0..<rows * gridCount {
            let d = Double(z[i] - zq[i])
            total += d * d
        }
        return total * Double(commitment + (ema ? 0 : 1))
    }

    /// The commitment term's gradient with respect to z_e, added to `dz`: 2β (z_e − z_q).
    func addCommitmentGradient(_ dz: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, _ zq: UnsafePointer<Float>, rows: Int) {
        for i in 0..<rows * gridCount { dz[i] += 2 * commitment * (z[i] - zq[i]) }
    }

    /// The codebook term's gradient with respect to the vectors into `dW`: 2 (e_k − z_e) summed over the
    /// positions that chose k; zero with EMA updates (the averages move the vectors).
    func codebookGradient(_ net: Network, _ z: UnsafePointer<Float>, rows: Int, into dW: UnsafeMutablePointer<Float>) {
        let (d, hw, e) = (dimension, positions, UnsafePointer(net.weights(layer)))
        dW.update(repeating: 0, count: codes * d)
        guard !ema else { return }
        for r in 0..<rows {
            for p in 0..<hw {
                let k = Int(indices[r * hw + p])
                for j in 0..<d { dW[k * d + j] += 2 * (e[k * d + j] - z[r * gridCount + j * hw + p]) }
            }
        }
    }

    func startEpoch() {
        for k in 0..<codes { epochUsage[k] = 0 }
    }

    /// After the optimiser's step `step` (1-based) on `rows` grids `z` (z_e): counts the codes chosen,
    /// moves the vectors by EMA, and restarts the codes no vector chose since the last check.
    func afterStep(_ net: Network, _ z: UnsafePointer<Float>, rows: Int, step: Int, seed: UInt64) {
        let (d, hw, e) = (dimension, positions, net.weights(layer))
        var assigned = [Int](repeating: 0, count: codes)
        for i in 0..<rows * hw { assigned[Int(indices[i])] += 1 }
        for k in 0..<codes {
            epochUsage[k] += assigned[k]
            windowUsage[k] += assigned[k]
        }
        if ema {
            let g = CodebookTraining.decay
            var sums = [Float](repeating: 0, count: codes * d)
            for r in 0..<rows {
                for p in 0..<hw {
                    let k = Int(indices[r * hw + p])
                    for j in 0..<d { sums[k * d + j] += z[r * gridCount + j * hw + p] }
                }
            }
            let before = smoothedCounts()
            for k in 0..<codes { emaCount[k] = g * emaCount[k] + (1 - g) * Float(assigned[k]) }
            let after = smoothedCounts()
            for k in 0..<codes {
                for j in 0..<d { e[k * d + j] = (g * e[k * d + j] * before[k] + (1 - g) * sums[k * d + j]) / after[k] }
            }
        }
        guard step % CodebookTraining.restartSteps == 0 else { return }
        let stream = RandomStream(seed: seed, purpose: .codeRestart)
        for k in 0..<codes where windowUsage[k] == 0 {
            let pick = RandomStream.below(rows * hw, word: stream.bits(item: UInt64(step), block: UInt32(k))[0])
            let (r, p) = (pick / hw, pick % hw)
            for j in 0..<d { e[k * d + j] = z[r * gridCount + j * hw + p] }
            if ema { emaCount[k] = 1 }
        }
        for k in 0..<codes { windowUsage[k] = 0 }
    }

    /// n'_k = (n_k + ε) / (n + K ε) · n, n = Σ n_k: counts kept away from 0 with their total unchanged.
    func smoothedCounts() -> [Float] {
        var total: Float = 0
        for k in 0..<codes { total += emaCount[k] }
        let eps = CodebookTraining.smoothing
        return (0..<codes).map { (emaCount[$0] + eps) / (total + Float(codes) * eps) * total }
    }

    /// The codes chosen in the epoch: `usageStatistics` of their counts.
    var epochStatistics: (perplexity: Double, inUse: Int) { CodebookTraining.usageStatistics(epochUsage) }

    /// exp of the entropy of the codes' shares of `counts` (K when all are equally used), and how many were used.
    public static func usageStatistics(_ counts: [Int]) -> (perplexity: Double, inUse: Int) {
        let total = Double(counts.reduce(0, +))
        guard total > 0 else { return (0, 0) }
        var entropy = 0.0
        for n in counts where n > 0 {
            let p = Double(n) / total
            entropy -= p * Foundation.log(p)
        }
        return (Foundation.exp(entropy), counts.filter { $0 > 0 }.count)
    }
}
