import Foundation
import Testing
import TestSupport
import TrainingTestSupport
import VAECore
@_spi(Testing) import VAETraining

/// Training a VQ-VAE: the straight-through gradient, the codebook's EMA updates and dead-code restarts,
/// on a model of 1 × 8 × 8 images, conv stages 3 and 2 to a 2 × 2 grid of 2-vectors, and 5 codes.
@Suite struct VQTrainingTests {
    static let (latent, positions, dimension, codes) = (8, 4, 2, 5)

    static func trainer(ema: Bool, commitment: Float = 0.4) -> Trainer {
        let a = Architecture.vectorQuantised(likelihood: .bernoulli, image: Shape3(channels: 1, height: 8, width: 8), conv: [3, 2], codebook: codes)
        var options = TrainingOptions(architecture: a, batchSize: 4, seed: 7)
        options.commitment = commitment
        options.ema = ema
        let trainer = Trainer(options: options, threads: 1)
        trainer.loadBatch(TestSupport.blobs(count: 4), indices: 0..<4)
        // Spread the grid vectors (PyTorch's initialisation keeps them within a few hundredths of each
        // other, where the commitment term's gradient is too small to check), then put the codes at
        // some of them (the initial ±1/K codebook is one small cluster, and one code would take every vector).
        let last = trainer.net.layerIndices(.encoder).last!
        for i in 0..<trainer.net.specs[last].parameterCount { trainer.net.weights(last)[i] *= 10 }
        trainer.forward(rows: 4, stream: RandomStream(seed: 5, purpose: .reparameterization), firstItem: 0)
        let e = trainer.net.parameters.pointer + trainer.codebookOffset!
        for c in 0..<codes {
            let i = 3 * c  // grid vector i: row i / 4, position i % 4
            for j in 0..<dimension { e[c * dimension + j] = trainer.codeBatch[(i / positions) * latent + j * positions + i % positions] }
        }
        return trainer
    }

    static func copy(_ p: UnsafePointer<Float>, _ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }

    /// The nearest code to position p of row r of `z`, by a double-precision search.
    static func nearest(_ z: [Float], row r: Int, position p: Int, codebook e: [Float]) -> Int {
        let distances = (0..<codes).map { k in
            (0..<dimension).map { j in pow(Double(z[r * latent + j * positions + p]) - Double(e[k * dimension + j]), 2) }.reduce(0, +)
        }
        return distances.indices.min { distances[$0] < distances[$1] }!
    }

    @Test("the gradient of every parameter is the straight-through surrogate's: rec(dec(z_e + sg(z_q − z_e))) + ‖sg(z_e) − z_q‖² + β‖z_e − sg(z_q)‖², against finite differences")
    func straightThrough() {
        let trainer = VQTrainingTests.trainer(ema: false)
        let stream = RandomStream(seed: 5, purpose: .reparameterization)
        let objective = trainer.objective(trainer.forward(rows: 4, stream: stream, firstItem: 0, training: true))
        trainer.backward(rows: 4)
        let (n, hw, d) = (VQTrainingTests.latent, VQTrainingTests.positions, VQTrainingTests.dimension)
        let offset = trainer.codebookOffset!, params = trainer.net.parameters
        let z0 = VQTrainingTests.copy(trainer.codeBatch, 4 * n), e0 = VQTrainingTests.copy(params.pointer + offset, VQTrainingTests.codes * d)
        let chosen = (0..<4 * hw).map { Int(trainer.chosenCodes![$0]) }
        for r in 0..<4 { for p in 0..<hw { #expect(chosen[r * hw + p] == VQTrainingTests.nearest(z0, row: r, position: p, codebook: e0)) } }
        #expect(Set(chosen).count >= 2, "the batch should use more than one code: \(chosen)")
        // z_q = z_e + (e0[chosen] − z0): the value of z_q at the start, the identity's derivative in z_e, none in e.
        trainer.quantisationOverride = { z, zq, rows in
            for r in 0..<rows { for p in 0..<hw { for j in 0..<d {
                let i = r * n + j * hw + p
                zq[i] = z[i] + (e0[chosen[r * hw + p] * d + j] - z0[i])
            } } }
        }
        func surrogate() -> Double {
            let reconstruction = trainer.forward(rows: 4, stream: stream, firstItem: 0).reconstruction
            var (codebookTerm, commitmentTerm) = (0.0, 0.0)
            for r in 0..<4 { for p in 0..<hw { for j in 0..<d {
                let (i, k) = (r * n + j * hw + p, chosen[r * hw + p] * d + j)
                codebookTerm += pow(Double(z0[i]) - Double(params[offset + k]), 2)
                commitmentTerm += pow(Double(trainer.codeBatch[i]) - Double(e0[k]), 2)
            } } }
            return reconstruction + codebookTerm + 0.4 * commitmentTerm
        }
        #expect(abs(surrogate() - objective) <= 1e-4 * abs(objective))
        for i in 0..<params.count {
            let numeric = TestSupport.finiteDifference(params.pointer + i, surrogate)
            let smaller = TestSupport.finiteDifference(params.pointer + i, step: 2e-4, surrogate)
            #expect(TestSupport.gradientsAgree(Double(trainer.gradient[i]), numeric) || TestSupport.gradientsAgree(Double(trainer.gradient[i]), smaller),
                    "parameter \(i)\(i >= offset ? " (codebook)" : ""): \(trainer.gradient[i]) vs \(numeric)")
        }
    }

    @Test("--ema: the codebook gets no gradient, and one step moves it to the smoothed averages (decay 0.99, counts from 1, sums from the vectors)")
    func emaUpdate() throws {
        let trainer = VQTrainingTests.trainer(ema: true)
        let (n, hw, d, k) = (VQTrainingTests.latent, VQTrainingTests.positions, VQTrainingTests.dimension, VQTrainingTests.codes)
        let offset = trainer.codebookOffset!
        let e0 = VQTrainingTests.copy(trainer.net.parameters.pointer + offset, k * d)
        _ = try trainer.step(rows: 4)
        #expect(VQTrainingTests.copy(trainer.gradient.pointer + offset, k * d).allSatisfy { $0 == 0 })
        let z = VQTrainingTests.copy(trainer.codeBatch, 4 * n), chosen = (0..<4 * hw).map { Int(trainer.chosenCodes![$0]) }
        var counts = [Double](repeating: 0.99, count: k), sums = e0.map { 0.99 * Double($0) }
        for r in 0..<4 {
            for p in 0..<hw {
                counts[chosen[r * hw + p]] += 0.01
                for j in 0..<d { sums[chosen[r * hw + p] * d + j] += 0.01 * Double(z[r * n + j * hw + p]) }
            }
        }
        let total = counts.reduce(0, +)
        for c in 0..<k {
            let smoothed = (counts[c] + 1e-5) / (total + Double(k) * 1e-5) * total
            for j in 0..<d {
                let expected = sums[c * d + j] / smoothed, got = Double(trainer.net.parameters[offset + c * d + j])
                #expect(abs(got - expected) <= 1e-5 * max(1, abs(expected)), "code \(c)[\(j)]: \(got) vs \(expected)")
            }
        }
    }

    @Test("a code no vector chooses stays put, and at step 100 restarts at one of the batch's encoder outputs")
    func deadCodeRestart() throws {
        let trainer = VQTrainingTests.trainer(ema: false)
        let (n, hw, d) = (VQTrainingTests.latent, VQTrainingTests.positions, VQTrainingTests.dimension)
        let dead = trainer.net.parameters.pointer + trainer.codebookOffset! + 4 * d
        (dead[0], dead[1]) = (100, -100)
        for _ in 0..<99 { _ = try trainer.step(rows: 4) }
        #expect(dead[0] == 100 && dead[1] == -100)
        _ = try trainer.step(rows: 4)
        let z = VQTrainingTests.copy(trainer.codeBatch, 4 * n)
        let outputs = (0..<4 * hw).map { i in (0..<d).map { z[(i / hw) * n + $0 * hw + i % hw] } }
        #expect(outputs.contains([dead[0], dead[1]]), "code 4 is \(dead[0]), \(dead[1])")
        #expect(trainer.codebookStatistics.inUse >= 1 && trainer.codebookStatistics.perplexity >= 1)
    }
}
