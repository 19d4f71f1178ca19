import Foundation
import Testing
import TestSupport
import TrainingTestSupport
import VAECore
import VAETraining

/// Every backward pass against central finite differences.
@Suite struct GradientCheckTests {
    @Test("dense layer: dW, db and dX")
    func dense() {
        let (batch, inputs, outputs) = (5, 7, 9)
        let x = FloatBuffer(TestSupport.randomFloats(batch * inputs, seed: 1))
        let w = FloatBuffer(TestSupport.randomFloats(inputs * outputs, seed: 2))
        let b = FloatBuffer(TestSupport.randomFloats(outputs, seed: 3))
        let upstream = TestSupport.randomFloats(batch * outputs, seed: 4)  // L = Σ upstream ⊙ y
        let layer = DenseLayer(inputCount: inputs, outputCount: outputs, weights: w.pointer, bias: b.pointer, activation: .identity)
        func loss() -> Double {
            var y = [Float](repeating: 0, count: batch * outputs)
            layer.forward(x.pointer, batch: batch, into: &y)
            return zip(y, upstream).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        let dW = FloatBuffer(count: inputs * outputs), db = FloatBuffer(count: outputs), dX = FloatBuffer(count: batch * inputs)
        let scratch = FloatBuffer(count: inputs * outputs)
        DenseBackward.backward(layer: layer, x: x.pointer, dY: upstream, batch: batch, dW: dW.pointer, db: db.pointer, dX: dX.pointer,
                               transposeScratch: scratch.pointer, threads: 1)
        for (buffer, gradient, name) in [(w, dW, "W"), (b, db, "b"), (x, dX, "x")] {
            for i in 0..<buffer.count {
                let numeric = TestSupport.finiteDifference(buffer.pointer + i, loss)
                #expect(TestSupport.gradientsAgree(Double(gradient[i]), numeric), "d\(name)[\(i)]: \(gradient[i]) vs \(numeric)")
            }
        }
    }

    @Test("activation derivatives from the output: every trainable activation against finite differences",
          arguments: [Activation.relu, .sigmoid, .leakyRelu(slope: 0.2), .tanh, .elu(alpha: 0.7)])
    func activationDerivatives(activation: Activation) {
        // Away from ReLU's and leaky ReLU's kink at 0, where the derivative is not defined.
        let x: [Float] = [-3.1, -1.2, -0.4, -0.05, 0.07, 0.3, 1.1, 2.6]
        let y = x.map { ActivationKernel.reference(activation, $0) }
        var d = [Float](repeating: 1, count: x.count)
        DenseBackward.activationBackward(activation, &d, output: y, count: x.count)
        for i in 0..<x.count {
            let h: Float = 1e-3
            let numeric = (Double(ActivationKernel.reference(activation, x[i] + h)) - Double(ActivationKernel.reference(activation, x[i] - h))) / Double(2 * h)
            #expect(TestSupport.gradientsAgree(Double(d[i]), numeric, tolerance: 5e-3), "\(activation.name)'(\(x[i])): \(d[i]) vs \(numeric)")
        }
        #expect(activation.trainable && !Activation.silu.trainable)
    }

    @Test("BCE-with-logits, squared error and Gaussian KL")
    func losses() {
        let logits = FloatBuffer([-6, -2.5, -0.3, 0, 0.4, 1.7, 5, 9])
        let targets = FloatBuffer([0, 0.2, 1, 0.5, 0.9, 0, 1, 0.7])
        for likelihood in Likelihood.allCases {
            let g = FloatBuffer(count: 8)
            _ = Losses.reconstruction(likelihood, logits: logits.pointer, targets: targets.pointer, count: 8, gradient: g.pointer)
            for i in 0..<8 {
                let numeric = TestSupport.finiteDifference(logits.pointer + i) {
                    Losses.reconstruction(likelihood, logits: logits.pointer, targets: targets.pointer, count: 8, gradient: nil)
                }
                #expect(TestSupport.gradientsAgree(Double(g[i]), numeric, tolerance: 5e-3), "\(likelihood) [\(i)]: \(g[i]) vs \(numeric)")
            }
        }
        let mu = FloatBuffer([-2, -0.5, 0, 0.3, 1.5]), logVariance = FloatBuffer([-4, -1, 0, 0.5, 2])
        let dMu = FloatBuffer(count: 5), dLogVariance = FloatBuffer(count: 5)
        _ = Losses.gaussianKL(mu: mu.pointer, logVariance: logVariance.pointer, count: 5, dMu: dMu.pointer, dLogVariance: dLogVariance.pointer)
        for (buffer, gradient) in [(mu, dMu), (logVariance, dLogVariance)] {
            for i in 0..<5 {
                let numeric = TestSupport.finiteDifference(buffer.pointer + i) {
                    Losses.gaussianKL(mu: mu.pointer, logVariance: logVariance.pointer, count: 5, dMu: nil, dLogVariance: nil)
                }
                #expect(TestSupport.gradientsAgree(Double(gradient[i]), numeric, tolerance: 5e-3))
            }
        }
    }

    @Test("known values: BCE of logit 0 is log 2; KL of N(0, 1) is 0; KL closed form")
    func closedForms() {
        var l: Float = 0, x: Float = 0.3
        #expect(abs(Losses.bceWithLogits(logits: &l, targets: &x, count: 1, gradient: nil) - 0.693147) < 1e-6)
        var big: Float = 1e4, one: Float = 1
        #expect(Losses.bceWithLogits(logits: &big, targets: &one, count: 1, gradient: nil) < 1e-6)
        var mu: Float = 0, lv: Float = 0
        #expect(Losses.gaussianKL(mu: &mu, logVariance: &lv, count: 1, dMu: nil, dLogVariance: nil) == 0)
        mu = 1.5
        lv = -0.7
        let expected = 0.5 * (exp(-0.7) + 2.25 - 1 + 0.7)
        #expect(abs(Losses.gaussianKL(mu: &mu, logVariance: &lv, count: 1, dMu: nil, dLogVariance: nil) - expected) < 1e-6)
    }

    @Test("every kind, MLP and convolutional: every parameter's gradient of the training objective",
          arguments: [ModelKind.vae, .ae, .convVAE, .convAE, .dae, .sparseAE, .cae, .cvae])
    func network(kind: ModelKind) {
        let convolutional = kind.isConvolutional
        let shape = convolutional ? Shape3(channels: 2, height: 6, width: 5) : Shape3(channels: 1, height: 2, width: 3)
        let data = TestSupport.blobs(count: 4, shape: shape)
        let hidden = convolutional ? [4] : (kind == .cae ? [] : [5, 4])
        let trainer = TestSupport.tinyTrainer(kind: kind, shape: shape, hidden: hidden, latent: 3, batch: 4, beta: 1.7,
                                              conv: convolutional ? [3, 2] : [], classes: kind.isConditional ? 4 : 0)
        let stream = RandomStream(seed: 5, purpose: .reparameterization)
        trainer.loadBatch(data, indices: 0..<4, noise: RandomStream(seed: 1, purpose: .corruption))
        func objective() -> Double { trainer.objective(trainer.forward(rows: 4, stream: stream, firstItem: 0, training: true)) }
        _ = objective()
        trainer.backward(rows: 4)
        let params = trainer.net.parameters
        var checked = 0
        for i in 0..<params.count {
            let numeric = TestSupport.finiteDifference(params.pointer + i, objective)
            let smaller = TestSupport.finiteDifference(params.pointer + i, step: 2e-4, objective)
            #expect(TestSupport.gradientsAgree(Double(trainer.gradient[i]), numeric) || TestSupport.gradientsAgree(Double(trainer.gradient[i]), smaller),
                    "parameter \(i): \(trainer.gradient[i]) vs \(numeric) (h = 1e-3), \(smaller) (h = 2e-4)")
            checked += 1
        }
        #expect(checked == trainer.net.parameterCount)
    }
}
