import Foundation
import VAECore

/// A small MLP classifier (pixels → 256 ReLU → classes, softmax cross-entropy, Adam), trained on real
/// images to judge generated ones (`ClassAccuracy`). It runs on vaert's own dense kernels and backward pass.
public final class Classifier {
    let inputs: Int, hidden = 256, classes: Int
    let parameters: FloatBuffer, gradient: FloatBuffer
    let adam: Adam

    public init(inputs: Int, classes: Int, seed: UInt64 = 1) {
        self.inputs = inputs
        self.classes = classes
        let count = inputs * hidden + hidden + hidden * classes + classes
        parameters = FloatBuffer(count: count)
        gradient = FloatBuffer(count: count)
        adam = Adam(parameterCount: count, learningRate: 1e-3)
        // Uniform in ±1, scaled by 1/√fan_in.
        let values = UnsafeMutableBufferPointer(start: parameters.pointer, count: count)
        RandomStream(seed: seed, purpose: .initialization).uniforms(item: 9999, into: values)
        for i in 0..<count { parameters[i] = (2 * values[i] - 1) * (i < inputs * hidden + hidden ? 1 / Float(inputs).squareRoot() : 1 / Float(hidden).squareRoot()) }
    }

    var first: DenseLayer {
        DenseLayer(inputCount: inputs, outputCount: hidden, weights: parameters.pointer, bias: parameters.pointer + inputs * hidden, activation: .relu)
    }
    var second: DenseLayer {
        let o = inputs * hidden + hidden
        return DenseLayer(inputCount: hidden, outputCount: classes, weights: parameters.pointer + o, bias: parameters.pointer + o + hidden * classes,
                          activation: .identity)
    }

    /// Trains on `data` for `epochs` epochs in batches of 128.
    public func train(_ data: Dataset, epochs: Int) {
        let batch = 128
        let h = FloatBuffer(count: batch * hidden), logits = FloatBuffer(count: batch * classes), dLogits = FloatBuffer(count: batch * classes)
        let dH = FloatBuffer(count: batch * hidden), scratch = FloatBuffer(count: inputs * hidden)
        data.images.withUnsafeBufferPointer { images in
            for _ in 0..<epochs {
                var start = 0
                while start < data.count {
                    let rows = min(batch, data.count - start)
                    let x = images.baseAddress! + start * inputs
                    first.forward(x, batch: rows, into: h.pointer)
                    second.forward(h.pointer, batch: rows, into: logits.pointer)
                    for r in 0..<rows {
                        let p = softmax(logits.pointer + r * classes)
                        for c in 0..<classes { dLogits[r * classes + c] = p[c] - (c == Int(data.labels[start + r]) ? 1 : 0) }
                    }
                    let o = inputs * hidden + hidden
                    DenseBackward.backward(layer: second, x: h.pointer, dY: dLogits.pointer, batch: rows, dW: gradient.pointer + o,
                                           db: gradient.pointer + o + hidden * classes, dX: dH.pointer, transposeScratch: scratch.pointer, threads: 2)
                    DenseBackward.activationBackward(.relu, dH.pointer, output: h.pointer, count: rows * hidden)
                    DenseBackward.backward(layer: first, x: x, dY: dH.pointer, batch: rows, dW: gradient.pointer, db: gradient.pointer + inputs * hidden,
                                           dX: nil, transposeScratch: scratch.pointer, threads: 2)
                    adam.update(parameters, gradient: gradient, threads: 2)
                    start += rows
                }
            }
        }
    }

    /// The most likely class of each of `count` images.
    public func predict(_ images: [Float], count: Int) -> [Int] {
        probabilities(images, count: count).map { p in p.indices.max { p[$0] < p[$1] }! }
    }

    /// The class probabilities (softmax) of each of `count` images.
    public func probabilities(_ images: [Float], count: Int) -> [[Float]] {
        let h = FloatBuffer(count: count * hidden), logits = FloatBuffer(count: count * classes)
        images.withUnsafeBufferPointer { first.forward($0.baseAddress!, batch: count, into: h.pointer) }
        second.forward(h.pointer, batch: count, into: logits.pointer)
        return (0..<count).map { softmax(logits.pointer + $0 * classes) }
    }

    func softmax(_ z: UnsafePointer<Float>) -> [Float] {
        let top = (0..<classes).map { z[$0] }.max()!
        let e = (0..<classes).map { Foundation.exp(z[$0] - top) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
