import Foundation
import VAECore

/// The forward pass: encoder, reparameterisation, decoder and the reconstruction loss.
extension Trainer {
    /// Runs `rows` images (already in `targets` and `input`) through encoder, sampling (ε from `stream`, item
    /// `firstItem + row`) and decoder. Returns the loss parts, summed over the rows. With `training`, also leaves
    /// d(reconstruction)/d(logits) for `backward`, computed in the same pass as the loss.
    @discardableResult
    public func forward(rows: Int, stream: RandomStream, firstItem: UInt64, training: Bool = false) -> LossSums {
        let a = architecture
        encodeForward(rows: rows)
        let code = codeBatch
        let z = latentBatch
        let d = a.latent
        let zStride = a.decoderInputs
        var kl: Double = 0
        for j in klPerDimension.indices { klPerDimension[j] = 0 }
        if a.kind.isVariational {
            for r in 0..<rows {
                stream.normals(item: firstItem + UInt64(r), into: UnsafeMutableBufferPointer(start: epsilon.pointer + r * d, count: d))
                for j in 0..<d {
                    let lv = clampLogVariance(code[r * 2 * d + d + j])
                    let s = FastMath.exp(0.5 * lv)
                    logVariance[r * d + j] = lv
                    sigma[r * d + j] = s
                    z[r * zStride + j] = code[r * 2 * d + j] + s * epsilon[r * d + j]
                }
                for j in 0..<d {
                    let part = Losses.gaussianKL(mu: code + r * 2 * d + j, logVariance: logVariance.pointer + r * d + j, count: 1, dMu: nil, dLogVariance: nil)
                    klPerDimension[j] += part
                    kl += part
                }
            }
        } else {
            for r in 0..<rows { (z + r * zStride).update(from: code + r * d, count: d) }
        }
        if a.classCount > 0 {
            for r in 0..<rows { OneHot.write(labels[r], classes: a.classCount, into: z + r * zStride + d) }
        }
        decodeForward(rows: rows)
        let rec = reconstruction(rows: rows, gradient: training ? gradientA.pointer : nil)
        return LossSums(reconstruction: rec, kl: kl, penalty: penalty(rows: rows), count: rows)
    }

    /// The reconstruction loss of the batch (and its gradient), rows split across threads. Each row's loss
    /// lands in `rowLosses`, which are then summed in row order: the same total for any thread count.
    func reconstruction(rows: Int, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let (likelihood, p) = (architecture.likelihood, architecture.pixels)
        let (logits, targets, sums) = (UnsafePointer(self.logits), UnsafePointer(self.targets), rowLosses.pointer)
        RowParallel.forEachRun(count: rows, workers: threads) { _, run in
            for r in run {
                sums[r] = Losses.reconstruction(likelihood, logits: logits + r * p, targets: targets + r * p, count: p,
                                                gradient: gradient.map { $0 + r * p })
            }
        }
        var total: Double = 0
        for r in 0..<rows { total += sums[r] }
        return total
    }

    /// Runs the encoder on the `rows` rows of `input`, leaving its output in `codeBatch`.
    func encodeForward(rows: Int) {
        panels.refreshForward(net, encoderLayers, threads: threads)
        for (i, l) in encoderLayers.enumerated() {
            forwardLayer(l, encoderActivations[i].pointer, rows: rows, into: encoderActivations[i + 1].pointer)
        }
    }

    /// Runs the decoder on the `rows` rows of `latentBatch`, leaving logits in `logits`.
    public func decodeForward(rows: Int) {
        panels.refreshForward(net, decoderLayers, threads: threads)
        for (i, l) in decoderLayers.enumerated() {
            if i == 0, let vq = codebookTraining {
                if let quantisationOverride {
                    quantisationOverride(decoderActivations[0].pointer, decoderActivations[1].pointer, rows)
                } else {
                    vq.quantise(net, decoderActivations[0].pointer, rows: rows, into: decoderActivations[1].pointer, threads: threads)
                }
                continue
            }
            // The output layer yields logits; its sigmoid is part of the loss.
            forwardLayer(l, decoderActivations[i].pointer, rows: rows, into: decoderActivations[i + 1].pointer,
                         activation: i == decoderLayers.count - 1 ? .identity : nil)
        }
    }

    /// Layer `l` on `rows` inputs: dense layers split their rows across threads, convolutions their images.
    func forwardLayer(_ l: Int, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, activation: Activation? = nil) {
        let layer = net.layer(l)
        if case .dense(let dense) = layer, let packed = panels.layers[l] {
            ParallelGemm.multiply(m: rows, a: MatrixView(x, rowStride: dense.inputCount), packed: packed.weights, c: y,
                                  cRowStride: dense.outputCount, epilogue: GemmEpilogue(bias: packed.bias, activation: activation ?? dense.activation),
                                  threads: threads)
            return
        }
        if case .dense(let dense) = layer {
            ParallelGemmLayer.forward(dense, x, rows: rows, into: y, activation: activation, threads: threads)
            return
        }
        let (n, m) = (layer.inputCount, layer.outputCount)
        // Each image's outputs have the same bits whatever run of images it is computed in.
        convWork.forEachRun(rows) { images, scratch in
            layer.forward(x + images.lowerBound * n, batch: images.count, into: y + images.lowerBound * m, scratch: scratch, activation: activation)
        }
    }
}

/// A dense layer's forward on the shared kernel with its rows split across threads.
enum ParallelGemmLayer {
    static func forward(_ layer: DenseLayer, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                        activation: Activation? = nil, threads: Int) {
        if threads == 1 {
            layer.forward(x, batch: rows, into: y, activation: activation)
            return
        }
        ParallelGemm.multiply(m: rows, n: layer.outputCount, k: layer.inputCount, a: MatrixView(x, rowStride: layer.inputCount),
                              b: layer.weights, bRowStride: layer.outputCount, c: y, cRowStride: layer.outputCount,
                              epilogue: GemmEpilogue(bias: layer.bias, activation: activation ?? layer.activation), threads: threads)
    }
}

