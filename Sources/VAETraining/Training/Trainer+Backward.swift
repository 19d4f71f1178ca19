import Foundation
import VAECore

/// The backward pass: the objective's gradient with respect to every parameter.
extension Trainer {
    /// Gradient of the objective (reconstruction + β·KL + the kind's penalty), summed over the batch, into
    /// `gradient`, after `forward(training: true)` on the same rows.
    public func backward(rows: Int) {
        let a = architecture
        let d = a.latent
        let zStride = a.decoderInputs
        panels.refreshTransposed(net, threads: threads)
        // Decoder, from d(logits) (left by forward in gradientA) down to d(decoder input).
        var dY = gradientA.pointer
        var dX = gradientB.pointer
        for i in decoderLayers.indices.reversed() {
            let l = decoderLayers[i]
            backwardLayer(l, x: decoderActivations[i].pointer, dY: dY, rows: rows, dX: i == 0 ? dDecoderInput.pointer : dX)
            if i > 0 {
                DenseBackward.activationBackward(net.specs[decoderLayers[i - 1]].activation, dX, output: decoderActivations[i].pointer,
                                                 count: rows * net.specs[l].inputs)
                swap(&dX, &dY)
            }
        }
        // The code: through the reparameterization and the KL term, or straight through.
        let code = codeBatch
        let dz = dDecoderInput.pointer
        if a.kind.isVariational {
            // β, warmed up; dimensions under the free-bits floor get no KL gradient.
            let beta = klWeight
            let weights = (0..<d).map { j -> Float in
                options.freeBits.map { klPerDimension[j] / Double(rows) < Double($0) ? 0 : beta } ?? beta
            }
            for r in 0..<rows {
                for j in 0..<d {
                    let k = r * d + j
                    dCode[r * 2 * d + j] = dz[r * zStride + j]
                    dCode[r * 2 * d + d + j] = dz[r * zStride + j] * epsilon[k] * sigma[k] * 0.5
                    _ = Losses.gaussianKL(mu: code + r * 2 * d + j, logVariance: logVariance.pointer + k, count: 1,
                                          dMu: dCode.pointer + r * 2 * d + j, dLogVariance: dCode.pointer + r * 2 * d + d + j, scale: weights[j])
                }
                // Past the clamp, log σ² does not move the loss.
                for j in 0..<d where !logVarianceRange.contains(code[r * 2 * d + d + j]) { dCode[r * 2 * d + d + j] = 0 }
            }
        } else {
            for r in 0..<rows { (dCode.pointer + r * d).update(from: dz + r * zStride, count: d) }
        }
        addPenaltyGradient(rows: rows)
        let codeLayer = encoderLayers.last!
        DenseBackward.activationBackward(net.specs[codeLayer].activation, dCode.pointer, output: code, count: rows * a.codeSize)
        // Encoder, from d(code) down to its first layer (no gradient for the images themselves).
        dY = dCode.pointer
        dX = gradientA.pointer
        for i in encoderLayers.indices.reversed() {
            let l = encoderLayers[i]
            backwardLayer(l, x: encoderActivations[i].pointer, dY: dY, rows: rows, dX: i > 0 ? dX : nil)
            if i > 0 {
                DenseBackward.activationBackward(net.specs[encoderLayers[i - 1]].activation, dX, output: encoderActivations[i].pointer,
                                                 count: rows * net.specs[l].inputs)
                dY = dX
                dX = dX == gradientA.pointer ? gradientB.pointer : gradientA.pointer
            }
        }
        addContractiveWeightGradient(rows: rows)
    }

    /// Gradients of layer `l` (weights and bias into `gradient`, input into `dX` when given) from dY.
    func backwardLayer(_ l: Int, x: UnsafePointer<Float>, dY: UnsafePointer<Float>, rows: Int, dX: UnsafeMutablePointer<Float>?) {
        let dW = gradient.pointer + net.offsets[l]
        let db = dW + net.specs[l].weightCount
        switch net.layer(l) {
        case .dense(let dense):
            DenseBackward.backward(layer: dense, x: x, dY: dY, batch: rows, dW: dW, db: db, dX: dX,
                                   transposeScratch: transposeScratch.pointer, transposed: panels.layers[l]?.transposed, threads: threads)
        case .conv(let conv):
            ConvBackward.conv(conv, x: x, dY: dY, batch: rows, dW: dW, db: db, dX: dX, work: convWork)
        case .convTranspose(let convT):
            ConvBackward.convTranspose(convT, x: x, dY: dY, batch: rows, dW: dW, db: db, dX: dX, work: convWork)
        case .quantizedDense, .halfDense:
            preconditionFailure("the trainer runs its own f32 layers, never a loaded model's int8 or f16 ones")
        case .codebook:
            // Straight through: z_q's gradient is z_e's; the vectors' own gradient is the codebook term's.
            dX?.update(from: dY, count: rows * net.specs[l].inputs)
            codebookTraining!.codebookGradient(net, x, rows: rows, into: dW)
        }
    }
}
