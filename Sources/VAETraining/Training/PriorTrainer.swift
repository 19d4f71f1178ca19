import Foundation
import VAECore

/// Trains a VQ-VAE's PixelCNN prior (`PriorShape`) on code grids: the cross-entropy of each position's
/// code given the codes before it, summed over the grid (nats per image), with Adam. The masked taps
/// stay 0: they start 0 and their gradient is zeroed every step.
public final class PriorTrainer: @unchecked Sendable {
    public let shape: PriorShape
    public let net: Network
    public let adam: Adam
    public let batchSize: Int
    public let seed: UInt64
    public let threads: Int
    /// The codebook's vectors [K, D]: the prior's input is the grid of the codes' vectors.
    let codebook: FloatBuffer
    @_spi(Testing) public let gradient: FloatBuffer
    /// Each layer's output for a batch (after its activation; the last holds logits, then their gradient).
    @_spi(Testing) public let outputs: [FloatBuffer]
    let input: FloatBuffer
    let delta: [FloatBuffer]
    let work: ConvWorkspace
    let rowLosses: DoubleBuffer
    public private(set) var epochsDone = 0

    public init(shape: PriorShape, codebook: [Float], batchSize: Int, learningRate: Float, seed: UInt64, threads: Int) {
        precondition(codebook.count == shape.codes * shape.grid.channels, "the codebook is K × D")
        (self.shape, self.batchSize, self.seed, self.threads) = (shape, batchSize, seed, max(threads, 1))
        self.codebook = FloatBuffer(codebook)
        net = Network(shape.layers)
        net.initialize(seed: seed)
        adam = Adam(parameterCount: net.parameterCount, learningRate: learningRate)
        gradient = FloatBuffer(count: net.parameterCount)
        outputs = net.specs.map { FloatBuffer(count: batchSize * $0.outputs) }
        input = FloatBuffer(count: batchSize * shape.grid.count)
        let widest = net.specs.map(\.outputs).max()!
        delta = [FloatBuffer(count: batchSize * widest), FloatBuffer(count: batchSize * widest)]
        work = ConvWorkspace(layers: net.specs.indices.map(net.layer), batch: batchSize, threads: self.threads)
        rowLosses = DoubleBuffer(count: batchSize)
    }

    /// Loads the prior's parameters from a file that holds one of this shape (to continue or evaluate it).
    public func load(from file: WeightsFile, bytes: UnsafeRawBufferPointer) throws(VaertError) { try net.load(from: file, bytes: bytes) }

    /// One epoch over the code grids `codes` (count × positions), shuffled by (seed, epoch). Returns the
    /// mean nats per grid; `progress(gridsDone, mean so far)` after every step.
    public func trainEpoch(_ codes: [Int32], count: Int, progress: (Int, Double) -> Void = { _, _ in }) -> Double {
        let order = Trainer.order(seed: seed, count: count, epoch: epochsDone)
        let hw = shape.positions
        var batchCodes = [Int32](repeating: 0, count: batchSize * hw)
        var total: Double = 0
        var first = 0
        while first < count {
            let rows = min(batchSize, count - first)
            for r in 0..<rows {
                for p in 0..<hw { batchCodes[r * hw + p] = codes[order[first + r] * hw + p] }
            }
            total += batchCodes.withUnsafeBufferPointer { step($0.baseAddress!, rows: rows) }
            first += rows
            progress(first, total / Double(first))
        }
        epochsDone += 1
        return total / Double(count)
    }

    /// The mean nats per grid of `codes` (count × positions) under the prior.
    public func evaluate(_ codes: [Int32], count: Int) -> Double {
        let hw = shape.positions
        var total: Double = 0
        codes.withUnsafeBufferPointer { codes in
            var first = 0
            while first < count {
                let rows = min(batchSize, count - first)
                forward(codes.baseAddress! + first * hw, rows: rows)
                total += loss(codes.baseAddress! + first * hw, rows: rows, gradient: false)
                first += rows
            }
        }
        return total / Double(count)
    }

    /// One Adam step on a batch of grids; returns the batch's summed nats.
    @_spi(Testing) public func step(_ codes: UnsafePointer<Int32>, rows: Int) -> Double {
        forward(codes, rows: rows)
        let sum = loss(codes, rows: rows, gradient: true)
        backward(rows: rows)
        adam.update(net.parameters, gradient: gradient, threads: threads)
        return sum
    }

    /// Runs the grids' code vectors through every layer into `outputs`, the images split across threads.
    @_spi(Testing) public func forward(_ codes: UnsafePointer<Int32>, rows: Int) {
        CodebookLayer(grid: shape.grid, codes: shape.codes, vectors: codebook.pointer).lookup(codes, batch: rows, into: input.pointer)
        for l in net.specs.indices {
            let layer = net.layer(l)
            let x = l == 0 ? input.pointer : outputs[l - 1].pointer, y = outputs[l].pointer
            let (inputs, outputsPerRow) = (net.specs[l].inputs, net.specs[l].outputs)
            work.forEachRun(rows) { images, scratch in
                layer.forward(x + images.lowerBound * inputs, batch: images.count, into: y + images.lowerBound * outputsPerRow, scratch: scratch)
            }
        }
    }

    /// Σ over the batch of Σ_p −log softmax(logits[·, p])[code_p]; with `gradient`, the last output becomes
    /// d(mean loss)/d(logits) = (softmax − one-hot) / rows. Row sums are added in row order.
    @_spi(Testing) public func loss(_ codes: UnsafePointer<Int32>, rows: Int, gradient: Bool) -> Double {
        let (k, hw) = (shape.codes, shape.positions)
        let logits = outputs[outputs.count - 1].pointer, sums = rowLosses.pointer
        let scale = 1 / Float(rows)
        RowParallel.forEachRun(count: rows, workers: threads) { _, run in
            for r in run {
                var s: Double = 0
                for p in 0..<hw {
                    let row = logits + r * k * hw + p
                    var top = row[0]
                    for c in 1..<k { top = max(top, row[c * hw]) }
                    var z: Float = 0
                    for c in 0..<k { z += FastMath.exp(row[c * hw] - top) }
                    let target = Int(codes[r * hw + p])
                    s += Double(top + FastMath.log(z) - row[target * hw])
                    guard gradient else { continue }
                    for c in 0..<k { row[c * hw] = FastMath.exp(row[c * hw] - top) / z * scale }
                    row[target * hw] -= scale
                }
                sums[r] = s
            }
        }
        var total: Double = 0
        for r in 0..<rows { total += sums[r] }
        return total
    }

    /// Back through the layers from the logits' gradient; the masked taps' gradient is zeroed.
    @_spi(Testing) public func backward(rows: Int) {
        var dY = outputs[outputs.count - 1].pointer
        for l in net.specs.indices.reversed() {
            let spec = net.specs[l]
            guard case .conv(let conv) = net.layer(l) else { preconditionFailure("a prior is convolutions") }
            if l < net.specs.count - 1 {
                // ReLU's derivative, from the layer's output.
                let y = outputs[l].pointer
                for i in 0..<(rows * spec.outputs) where y[i] <= 0 { dY[i] = 0 }
            }
            let dW = gradient.pointer + net.offsets[l]
            let dX = l == 0 ? nil : delta[l % 2].pointer
            ConvBackward.conv(conv, x: l == 0 ? input.pointer : outputs[l - 1].pointer, dY: dY, batch: rows, dW: dW,
                              db: dW + spec.weightCount, dX: dX, work: work)
            Network.zeroMaskedTaps(dW, mask: spec.mask!, dims: spec.weightDims)
            if let dX { dY = dX }
        }
    }
}
