import Foundation
import VAECore

/// Trains a `Network` autoencoder or VAE: forward through the shared kernels, backward, Adam.
/// All buffers are allocated once for the batch size; a step allocates nothing.
public final class Trainer: @unchecked Sendable {
    public let options: TrainingOptions
    public let net: Network
    public let gradient: FloatBuffer
    public let adam: Adam
    public let threads: Int
    /// Per-step (reconstruction, KL) per image, for the curves.
    public var history: [(reconstruction: Float, kl: Float)] = []
    /// The test set's (reconstruction, KL) per image after each epoch, for the curves.
    public var testHistory: [(epoch: Int, reconstruction: Float, kl: Float)] = []
    /// Completed epochs.
    public var epochsDone = 0

    let encoderLayers: [Int]
    let decoderLayers: [Int]
    /// encoderActivations[0] is the encoder's input (images, corrupted for a denoising AE, then the one-hot
    /// class for a CVAE); [i + 1] is the output of encoder layer i.
    let encoderActivations: [FloatBuffer]
    /// decoderActivations[0] is the decoder's input (z, then the one-hot class for a CVAE); [i + 1] is the
    /// output of decoder layer i (the last holds logits).
    let decoderActivations: [FloatBuffer]
    /// The clean images the reconstruction is scored against.
    let target: FloatBuffer
    /// The batch's class labels (CVAE).
    var labels: [Int]
    /// KL summed over the batch, per latent dimension, of the last forward pass.
    var klPerDimension: [Double]
    /// Steps in an epoch of the data being trained on (for the KL warm-up schedule).
    var stepsPerEpoch = 1
    let epsilon, logVariance, sigma, dDecoderInput, dCode, gradientA, gradientB, transposeScratch: FloatBuffer
    let convWork: ConvWorkspace
    /// Per-row reconstruction losses of the last forward pass.
    let rowLosses: DoubleBuffer

    public init(options: TrainingOptions, threads: Int) {
        self.options = options
        self.threads = max(1, threads)
        let a = options.architecture
        let net = Network(a)
        net.initialize(seed: options.seed)
        self.net = net
        gradient = FloatBuffer(count: net.parameterCount)
        adam = Adam(parameterCount: net.parameterCount, learningRate: options.learningRate)
        let encoderLayers = net.layerIndices(.encoder)
        let decoderLayers = net.layerIndices(.decoder)
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        let rows = options.batchSize
        encoderActivations = [FloatBuffer(count: rows * a.encoderInputs)] + encoderLayers.map { FloatBuffer(count: rows * net.specs[$0].outputs) }
        decoderActivations = [FloatBuffer(count: rows * a.decoderInputs)] + decoderLayers.map { FloatBuffer(count: rows * net.specs[$0].outputs) }
        target = FloatBuffer(count: rows * a.pixels)
        labels = [Int](repeating: 0, count: rows)
        klPerDimension = [Double](repeating: 0, count: a.latent)
        let widest = net.specs.map { max($0.inputs, $0.outputs) }.max() ?? 1
        (epsilon, logVariance, sigma) = (FloatBuffer(count: rows * a.latent), FloatBuffer(count: rows * a.latent), FloatBuffer(count: rows * a.latent))
        dDecoderInput = FloatBuffer(count: rows * a.decoderInputs)
        dCode = FloatBuffer(count: rows * a.codeSize)
        gradientA = FloatBuffer(count: rows * widest)
        gradientB = FloatBuffer(count: rows * widest)
        transposeScratch = FloatBuffer(count: net.specs.map(\.weightCount).max() ?? 1)
        convWork = ConvWorkspace(layers: net.specs.indices.map(net.layer), batch: rows, threads: max(1, threads))
        rowLosses = DoubleBuffer(count: rows)
    }

    var architecture: Architecture { options.architecture }
    /// The encoder's input rows (batch × encoder inputs) that `forward` reads.
    public var input: UnsafeMutablePointer<Float> { encoderActivations[0].pointer }
    /// The clean images of the batch (batch × pixels).
    public var targets: UnsafeMutablePointer<Float> { target.pointer }
    /// The decoder's input of the last forward pass (batch × decoder inputs: z, then the class one-hot).
    public var latentBatch: UnsafeMutablePointer<Float> { decoderActivations[0].pointer }
    /// The encoder's output of the last forward pass (batch × code size: μ and log σ², or the code).
    public var codeBatch: UnsafeMutablePointer<Float> { encoderActivations.last!.pointer }
    /// The decoder's output logits of the last forward pass (batch × pixels).
    public var logits: UnsafeMutablePointer<Float> { decoderActivations.last!.pointer }

    // MARK: Forward

    /// Runs `rows` images (already in `targets` and `input`) through encoder, sampling (ε from `stream`, item
    /// `firstItem + row`) and decoder. Returns the loss parts, summed over the rows. With `training`, also leaves
    /// d(reconstruction)/d(logits) for `backward`, computed in the same pass as the loss.
    @discardableResult
    public func forward(rows: Int, stream: RandomStream, firstItem: UInt64, training: Bool = false) -> LossSums {
        let a = architecture
        for (i, l) in encoderLayers.enumerated() {
            forwardLayer(l, encoderActivations[i].pointer, rows: rows, into: encoderActivations[i + 1].pointer)
        }
        let code = codeBatch
        let z = latentBatch
        let d = a.latent
        let zStride = a.decoderInputs
        var kl: Double = 0
        for j in klPerDimension.indices { klPerDimension[j] = 0 }
        if a.modelKind.isVariational {
            for r in 0..<rows {
                stream.normals(item: firstItem + UInt64(r), into: UnsafeMutableBufferPointer(start: epsilon.pointer + r * d, count: d))
                for j in 0..<d {
                    let lv = min(max(code[r * 2 * d + d + j], logVarianceRange.lowerBound), logVarianceRange.upperBound)
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
        let (likelihood, p) = (architecture.modelLikelihood, architecture.pixels)
        nonisolated(unsafe) let (logits, targets, gradient, sums) = (UnsafePointer(self.logits), UnsafePointer(self.targets), gradient, rowLosses.pointer)
        let workers = min(threads, rows)
        let perWorker = (rows + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for r in (w * perWorker)..<min(rows, (w + 1) * perWorker) {
                sums[r] = Losses.reconstruction(likelihood, logits: logits + r * p, targets: targets + r * p, count: p,
                                                gradient: gradient.map { $0 + r * p })
            }
        }
        var total: Double = 0
        for r in 0..<rows { total += sums[r] }
        return total
    }

    /// Runs the decoder on the `rows` rows of `latentBatch`, leaving logits in `logits`.
    public func decodeForward(rows: Int) {
        for (i, l) in decoderLayers.enumerated() {
            // The output layer yields logits; its sigmoid is part of the loss.
            forwardLayer(l, decoderActivations[i].pointer, rows: rows, into: decoderActivations[i + 1].pointer,
                         activation: i == decoderLayers.count - 1 ? .identity : nil)
        }
    }

    /// Layer `l` on `rows` inputs: dense layers split their rows across threads, convolutions their images.
    func forwardLayer(_ l: Int, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, activation: Activation? = nil) {
        let layer = net.layer(l)
        if case .dense(let dense) = layer {
            ParallelGemmLayer.forward(dense, x, rows: rows, into: y, activation: activation, threads: threads)
            return
        }
        let (n, m) = (layer.inputCount, layer.outputCount)
        convWork.forEachImage(rows) { b, scratch in
            layer.forward(x + b * n, batch: 1, into: y + b * m, scratch: scratch, activation: activation)
        }
    }

    /// Gradients of layer `l` (weights and bias into `gradient`, input into `dX` when given) from dY.
    func backwardLayer(_ l: Int, x: UnsafePointer<Float>, dY: UnsafePointer<Float>, rows: Int, dX: UnsafeMutablePointer<Float>?) {
        let dW = gradient.pointer + net.offsets[l]
        let db = dW + net.specs[l].weightCount
        switch net.layer(l) {
        case .dense(let dense):
            DenseBackward.backward(layer: dense, x: x, dY: dY, batch: rows, dW: dW, db: db, dX: dX,
                                   transposeScratch: transposeScratch.pointer, threads: threads)
        case .conv(let conv):
            ConvBackward.conv(conv, x: x, dY: dY, batch: rows, dW: dW, db: db, dX: dX, work: convWork)
        case .convTranspose(let convT):
            ConvBackward.convTranspose(convT, x: x, dY: dY, batch: rows, dW: dW, db: db, dX: dX, work: convWork)
        }
    }

    // MARK: Backward

    /// Gradient of the objective (reconstruction + β·KL + the kind's penalty), summed over the batch, into
    /// `gradient`, after `forward(training: true)` on the same rows.
    public func backward(rows: Int) {
        let a = architecture
        let d = a.latent
        let zStride = a.decoderInputs
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
        if a.modelKind.isVariational {
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

    /// Total loss the optimizer minimises for these sums.
    public func objective(_ s: LossSums) -> Double {
        s.reconstruction + Double(klWeight) * s.kl + Double(options.penaltyWeight) * s.penalty
    }

    /// The KL term's weight at the current step: β, times the warm-up factor. Linear warm-up ramps from 0
    /// to 1 over `klWarmup` epochs; cyclical repeats cycles of `klWarmup` epochs, ramping over the first half.
    public var klWeight: Float {
        guard let warmup = options.klWarmup, warmup > 0 else { return options.beta }
        let position = Double(adam.step) / Double(max(stepsPerEpoch, 1)) / Double(warmup)
        let factor = options.klSchedule == .cyclical ? min(1, 2 * (position - position.rounded(.down))) : min(1, position)
        return options.beta * Float(factor)
    }

    // MARK: Steps and epochs

    /// Copies images `indices` of `data` into the batch: clean images into `targets`, labels, and the encoder
    /// input (corrupted when the options say so, with noise from `noise` items `firstItem + row`; then the
    /// class one-hot for a CVAE).
    public func loadBatch(_ data: Dataset, indices: ArraySlice<Int>, noise: RandomStream? = nil, firstItem: UInt64 = 0) {
        let a = architecture
        let p = a.pixels
        let stride = a.encoderInputs
        data.images.withUnsafeBufferPointer { images in
            for (r, index) in indices.enumerated() {
                (target.pointer + r * p).update(from: images.baseAddress! + index * p, count: p)
                (input + r * stride).update(from: images.baseAddress! + index * p, count: p)
                if let corruption = options.noise {
                    corruption.apply(to: input + r * stride, count: p, stream: noise ?? RandomStream(seed: options.seed, purpose: .corruption),
                                     item: firstItem + UInt64(r))
                }
                labels[r] = index < data.labels.count ? Int(data.labels[index]) : 0
                if a.classCount > 0 { OneHot.write(labels[r], classes: a.classCount, into: input + r * stride + p) }
            }
        }
    }

    /// One optimisation step on the rows already in `input`. Throws on a non-finite loss, before updating.
    public func step(rows: Int) throws(TrainingError) -> LossSums {
        let stream = RandomStream(seed: options.seed, purpose: .reparameterization)
        let sums = forward(rows: rows, stream: stream, firstItem: UInt64(adam.step) * UInt64(options.batchSize), training: true)
        guard objective(sums).isFinite else { throw .nonFiniteLoss(step: adam.step + 1, epoch: epochsDone + 1) }
        backward(rows: rows)
        adam.update(net.parameters, gradient: gradient, threads: threads)
        history.append((Float(sums.reconstructionPerImage), Float(sums.klPerImage)))
        return sums
    }

    /// The order of the training images in epoch `epoch` (0-based): a Fisher–Yates shuffle from (seed, epoch).
    public func order(count: Int, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        let stream = RandomStream(seed: options.seed, purpose: .shuffle)
        var i = count - 1
        while i > 0 {
            let words = stream.bits(item: UInt64(epoch), block: UInt32(i / 4))
            let j = RandomStream.below(i + 1, word: words[i % 4])
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// Trains one epoch over `data`; `progress(imagesDone, running sums)` is called after every step.
    public func trainEpoch(_ data: Dataset, progress: (Int, LossSums) -> Void) throws(TrainingError) -> LossSums {
        stepsPerEpoch = (data.count + options.batchSize - 1) / options.batchSize
        let order = order(count: data.count, epoch: epochsDone)
        var sums = LossSums()
        var first = 0
        while first < data.count {
            let rows = min(options.batchSize, data.count - first)
            loadBatch(data, indices: order[first..<(first + rows)], noise: RandomStream(seed: options.seed, purpose: .corruption),
                      firstItem: UInt64(adam.step) * UInt64(options.batchSize))
            sums += try step(rows: rows)
            first += rows
            progress(first, sums)
        }
        epochsDone += 1
        return sums
    }

    /// Steps of one epoch in the run so far (every epoch has as many); 0 before the first.
    public var stepsPerEpochDone: Int { epochsDone > 0 ? adam.step / epochsDone : 0 }

    /// Keeps the test figures of the epoch just done for the curves.
    public func recordTest(_ test: LossSums) {
        testHistory.append((epochsDone, Float(test.reconstructionPerImage), Float(test.klPerImage)))
    }

    /// Loss parts over all of `data` with one ε sample per image (from (seed, image index)), no update.
    public func evaluate(_ data: Dataset) -> LossSums {
        let stream = RandomStream(seed: options.seed, purpose: .evaluation)
        var sums = LossSums()
        var first = 0
        while first < data.count {
            let rows = min(options.batchSize, data.count - first)
            loadBatch(data, indices: first..<(first + rows), noise: RandomStream(seed: options.seed, purpose: .evaluationCorruption),
                      firstItem: UInt64(first))
            sums += forward(rows: rows, stream: stream, firstItem: UInt64(first))
            first += rows
        }
        return sums
    }
}

extension Trainer {
    /// The mean activation of the code units over all of `data` (the sparse AE's ρ̂, averaged over units).
    public func meanCodeActivation(_ data: Dataset) -> Double {
        var total = 0.0
        var first = 0
        let n = options.architecture.codeSize
        while first < data.count {
            let rows = min(options.batchSize, data.count - first)
            loadBatch(data, indices: first..<(first + rows), noise: RandomStream(seed: options.seed, purpose: .evaluationCorruption), firstItem: UInt64(first))
            for (i, l) in encoderLayers.enumerated() {
                forwardLayer(l, encoderActivations[i].pointer, rows: rows, into: encoderActivations[i + 1].pointer)
            }
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
        guard a.modelKind.isVariational else { return ([], []) }
        var kl = [Double](repeating: 0, count: d), sum = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        var first = 0
        while first < data.count {
            let rows = min(options.batchSize, data.count - first)
            loadBatch(data, indices: first..<(first + rows))
            for (i, l) in encoderLayers.enumerated() {
                forwardLayer(l, encoderActivations[i].pointer, rows: rows, into: encoderActivations[i + 1].pointer)
            }
            for r in 0..<rows {
                for j in 0..<d {
                    let mu = Double(codeBatch[r * 2 * d + j])
                    let lv = Double(min(max(codeBatch[r * 2 * d + d + j], logVarianceRange.lowerBound), logVarianceRange.upperBound))
                    kl[j] += -0.5 * (1 + lv - mu * mu - Foundation.exp(lv))
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

extension ArraySlice where Element == Int {
    init(_ range: Range<Int>) { self = Array(range)[...] }
}

extension Trainer {
    public func loadBatch(_ data: Dataset, indices: Range<Int>, noise: RandomStream? = nil, firstItem: UInt64 = 0) {
        loadBatch(data, indices: ArraySlice(indices), noise: noise, firstItem: firstItem)
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

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, epoch: Int)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let step, let epoch): return "the loss became NaN or infinite at step \(step) (epoch \(epoch))"
        }
    }
}
