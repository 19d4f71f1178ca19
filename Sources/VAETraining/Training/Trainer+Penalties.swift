import Foundation
import VAECore

/// The sparse and contractive autoencoders' penalty terms on the code layer h (sigmoid units).
extension Trainer {
    /// Sparse AE: rows · Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the batch mean of unit j (the term counts once per image,
    /// like the reconstruction summed over the batch, so its weight means the same at any batch size).
    /// Contractive AE: Σ_rows ‖∂h/∂x‖²_F, which for
    /// one sigmoid layer h = σ(xW + b) is Σ_j (h_j(1 − h_j))² Σ_i W_ij². Other kinds: 0.
    func penalty(rows: Int) -> Double {
        let a = architecture
        let h = codeBatch
        let n = a.codeSize
        switch a.kind {
        case .sparseAE:
            let rho = Double(options.sparsity ?? 0.05)
            var total = 0.0
            for mean in codeMeans(rows: rows) {
                let m = min(max(Double(mean), 1e-6), 1 - 1e-6)
                total += rho * Foundation.log(rho / m) + (1 - rho) * Foundation.log((1 - rho) / (1 - m))
            }
            return total * Double(rows)
        case .cae:
            let norms = columnNorms()
            var total = 0.0
            for r in 0..<rows {
                for j in 0..<n {
                    let v = h[r * n + j] * (1 - h[r * n + j])
                    total += Double(v * v * norms[j])
                }
            }
            return total
        case .vqVAE:
            return codebookTraining!.loss(codeBatch, decoderActivations[1].pointer, rows: rows)
        default:
            return 0
        }
    }

    /// Adds weight · ∂penalty/∂h to `dCode` (the gradient with respect to the code layer's output).
    func addPenaltyGradient(rows: Int) {
        let a = architecture
        let h = codeBatch
        let n = a.codeSize
        let weight = options.penaltyWeight
        switch a.kind {
        case .sparseAE:
            let rho = options.sparsity ?? 0.05
            let means = codeMeans(rows: rows)
            for j in 0..<n {
                let m = min(max(means[j], 1e-6), 1 - 1e-6)
                let g = weight * (-rho / m + (1 - rho) / (1 - m))
                for r in 0..<rows { dCode[r * n + j] += g }
            }
        case .cae:
            let norms = columnNorms()
            for r in 0..<rows {
                for j in 0..<n {
                    let v = h[r * n + j]
                    dCode[r * n + j] += weight * norms[j] * 2 * v * (1 - v) * (1 - 2 * v)
                }
            }
        case .vqVAE:
            codebookTraining!.addCommitmentGradient(dCode.pointer, h, decoderActivations[1].pointer, rows: rows)
        default:
            return
        }
    }

    /// Contractive AE: the penalty's direct dependence on W, dW_ij += λ · 2 W_ij Σ_rows (h_j(1 − h_j))².
    func addContractiveWeightGradient(rows: Int) {
        guard architecture.kind == .cae, let layer = encoderLayers.first else { return }
        let spec = net.specs[layer]
        let h = codeBatch
        let n = spec.outputs
        var sums = [Float](repeating: 0, count: n)
        for r in 0..<rows {
            for j in 0..<n {
                let v = h[r * n + j] * (1 - h[r * n + j])
                sums[j] += v * v
            }
        }
        let w = net.weights(layer)
        let dW = gradient.pointer + net.offsets[layer]
        let weight = options.penaltyWeight
        for i in 0..<spec.inputs {
            for j in 0..<n { dW[i * n + j] += weight * 2 * w[i * n + j] * sums[j] }
        }
    }

    /// Mean activation of each code unit over the batch.
    func codeMeans(rows: Int) -> [Float] {
        let n = architecture.codeSize
        var means = [Float](repeating: 0, count: n)
        for r in 0..<rows {
            for j in 0..<n { means[j] += codeBatch[r * n + j] }
        }
        return means.map { $0 / Float(max(rows, 1)) }
    }

    /// Σ_i W_ij² of the first encoder layer's weights [inputs × outputs].
    func columnNorms() -> [Float] {
        let layer = encoderLayers[0]
        let spec = net.specs[layer]
        let w = net.weights(layer)
        var norms = [Float](repeating: 0, count: spec.outputs)
        for i in 0..<spec.inputs {
            for j in 0..<spec.outputs { norms[j] += w[i * spec.outputs + j] * w[i * spec.outputs + j] }
        }
        return norms
    }
}
