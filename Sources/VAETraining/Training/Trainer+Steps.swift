import Foundation
import VAECore

/// Batches, optimisation steps, epochs and the test evaluation.
extension Trainer {
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

    /// One optimisation step on the rows already in `input`, denormals flushed to zero (`FloatMode`).
    /// Throws on a non-finite loss, before updating.
    public func step(rows: Int) throws(TrainingError) -> LossSums {
        try FloatMode.flushingDenormals { () throws(TrainingError) in try unflushedStep(rows: rows) }
    }

    private func unflushedStep(rows: Int) throws(TrainingError) -> LossSums {
        let stream = RandomStream(seed: options.seed, purpose: .reparameterization)
        let sums = forward(rows: rows, stream: stream, firstItem: UInt64(adam.step) * UInt64(options.batchSize), training: true)
        guard objective(sums).isFinite else { throw .nonFiniteLoss(step: adam.step + 1, epoch: epochsDone + 1) }
        backward(rows: rows)
        adam.update(net.parameters, gradient: gradient, threads: threads)
        codebookTraining?.afterStep(net, codeBatch, rows: rows, step: adam.step, seed: options.seed)
        history.append((Float(sums.reconstructionPerImage), Float(sums.klPerImage)))
        return sums
    }

    /// The order of the training images in epoch `epoch` (0-based): a Fisher–Yates shuffle from (seed, epoch).
    public func order(count: Int, epoch: Int) -> [Int] { Trainer.order(seed: options.seed, count: count, epoch: epoch) }

    /// The order of `count` items in epoch `epoch` under `seed` (every trainer's shuffle).
    public static func order(seed: UInt64, count: Int, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        let stream = RandomStream(seed: seed, purpose: .shuffle)
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
        codebookTraining?.startEpoch()
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

    public func loadBatch(_ data: Dataset, indices: Range<Int>, noise: RandomStream? = nil, firstItem: UInt64 = 0) {
        loadBatch(data, indices: ArraySlice(indices), noise: noise, firstItem: firstItem)
    }
}

extension ArraySlice where Element == Int {
    init(_ range: Range<Int>) { self = Array(range)[...] }
}
