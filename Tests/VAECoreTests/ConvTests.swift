import Testing
import TestSupport
import VAECore

/// Convolution kernels against direct loops written from PyTorch's definitions.
@Suite struct ConvTests {
    /// y[oc, oy, ox] = b[oc] + Σ x[ic, oy·s − p + ky, ox·s − p + kx] · W[oc, ic, ky, kx]  (nn.Conv2d)
    func referenceConv(_ x: [Float], _ w: [Float], _ b: [Float], input: Shape3, output: Shape3, _ p: ConvParameters) -> [Float] {
        var y = [Float](repeating: 0, count: output.count)
        for oc in 0..<output.channels {
            for oy in 0..<output.height {
                for ox in 0..<output.width {
                    var s = b[oc]
                    for ic in 0..<input.channels {
                        for ky in 0..<p.kernelHeight {
                            for kx in 0..<p.kernelWidth {
                                let iy = oy * p.stride - p.padding + ky, ix = ox * p.stride - p.padding + kx
                                guard iy >= 0, iy < input.height, ix >= 0, ix < input.width else { continue }
                                s += x[(ic * input.height + iy) * input.width + ix] * w[((oc * input.channels + ic) * p.kernelHeight + ky) * p.kernelWidth + kx]
                            }
                        }
                    }
                    y[(oc * output.height + oy) * output.width + ox] = s
                }
            }
        }
        return y
    }

    /// y[oc, iy·s − p + ky, ix·s − p + kx] += x[ic, iy, ix] · W[ic, oc, ky, kx], plus b[oc]  (nn.ConvTranspose2d)
    func referenceConvTranspose(_ x: [Float], _ w: [Float], _ b: [Float], input: Shape3, output: Shape3, _ p: ConvParameters) -> [Float] {
        var y = [Float](repeating: 0, count: output.count)
        for oc in 0..<output.channels { for i in 0..<(output.height * output.width) { y[oc * output.height * output.width + i] = b[oc] } }
        for ic in 0..<input.channels {
            for iy in 0..<input.height {
                for ix in 0..<input.width {
                    for oc in 0..<output.channels {
                        for ky in 0..<p.kernelHeight {
                            for kx in 0..<p.kernelWidth {
                                let oy = iy * p.stride - p.padding + ky, ox = ix * p.stride - p.padding + kx
                                guard oy >= 0, oy < output.height, ox >= 0, ox < output.width else { continue }
                                y[(oc * output.height + oy) * output.width + ox] +=
                                    x[(ic * input.height + iy) * input.width + ix] * w[((ic * output.channels + oc) * p.kernelHeight + ky) * p.kernelWidth + kx]
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    static let cases: [(Shape3, Int, ConvParameters)] = [
        (Shape3(channels: 1, height: 8, width: 8), 3, ConvParameters(kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1)),
        (Shape3(channels: 2, height: 7, width: 5), 4, ConvParameters(kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)),
        (Shape3(channels: 3, height: 9, width: 6), 2, ConvParameters(kernelHeight: 2, kernelWidth: 3, stride: 3, padding: 0)),
    ]

    @Test("Conv2d matches the direct definition (several kernels, strides, paddings, batch 2)")
    func conv() {
        for (input, outChannels, p) in Self.cases {
            let output = Shape3(channels: outChannels, height: p.convolutionOutput(input.height, kernel: p.kernelHeight)!,
                                width: p.convolutionOutput(input.width, kernel: p.kernelWidth)!)
            let x = TestSupport.randomFloats(2 * input.count, seed: 1)
            let w = TestSupport.randomFloats(outChannels * input.channels * p.kernelHeight * p.kernelWidth, seed: 2)
            let b = TestSupport.randomFloats(outChannels, seed: 3)
            let y = w.withUnsafeBufferPointer { w in
                b.withUnsafeBufferPointer { b in
                    let layer = ConvLayer(input: input, output: output, parameters: p, weights: .floats(w.baseAddress!), bias: b.baseAddress!, activation: .identity)
                    return Self.run(x, batch: 2, output: output.count, scratch: layer.scratchFloats(batch: 2)) { layer.forward($0, batch: 2, into: $1, scratch: $2) }
                }
            }
            for image in 0..<2 {
                let expected = referenceConv(Array(x[(image * input.count)..<((image + 1) * input.count)]), w, b, input: input, output: output, p)
                #expect(TestSupport.maxAbsDifference(Array(y[(image * output.count)..<((image + 1) * output.count)]), expected) < 1e-5)
            }
        }
    }

    /// `forward` of a layer over `x`, into a fresh output of `batch × output` floats.
    static func run(_ x: [Float], batch: Int, output: Int, scratch: Int,
                    _ forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var y = [Float](repeating: 0, count: batch * output)
        var scratch = [Float](repeating: .nan, count: scratch)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                scratch.withUnsafeMutableBufferPointer { forward(x.baseAddress!, y.baseAddress!, $0.baseAddress!) }
            }
        }
        return y
    }

    /// Transposed convolutions wide enough to run as stride phases: a partial second panel of channels, a
    /// stride above the kernel (phases no tap reaches, the bias alone), stride 1 (one phase).
    static let phaseCases: [(Shape3, Int, ConvParameters)] = [
        (Shape3(channels: 5, height: 4, width: 3), 20, ConvParameters(kernelHeight: 4, kernelWidth: 4, stride: 2, padding: 1)),
        (Shape3(channels: 3, height: 3, width: 4), 17, ConvParameters(kernelHeight: 2, kernelWidth: 3, stride: 3, padding: 0)),
        (Shape3(channels: 4, height: 3, width: 3), 16, ConvParameters(kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)),
    ]

    @Test("ConvTranspose2d matches the direct definition, output padding included, folded (few channels) and by stride phases (16 or more); batch 11 (a group of 8 interleaved images and one of 3) gives each image the bits of batch 1")
    func convTranspose() {
        let batch = 11
        for (input, outChannels, base) in Self.cases + Self.phaseCases {
            for outputPadding in 0..<base.stride {
                var p = base
                p.outputPadding = outputPadding
                let output = Shape3(channels: outChannels, height: p.transposedOutput(input.height, kernel: p.kernelHeight),
                                    width: p.transposedOutput(input.width, kernel: p.kernelWidth))
                let x = TestSupport.randomFloats(batch * input.count, seed: 4)
                let w = TestSupport.randomFloats(input.channels * outChannels * p.kernelHeight * p.kernelWidth, seed: 5)
                let b = TestSupport.randomFloats(outChannels, seed: 6)
                w.withUnsafeBufferPointer { w in
                    b.withUnsafeBufferPointer { b in
                        let layer = ConvTransposeLayer(input: input, output: output, parameters: p, weights: .floats(w.baseAddress!), bias: b.baseAddress!,
                                                       activation: .identity)
                        let y = Self.run(x, batch: batch, output: output.count, scratch: layer.scratchFloats(batch: batch)) {
                            layer.forward($0, batch: batch, into: $1, scratch: $2)
                        }
                        for image in 0..<batch {
                            let alone = Array(x[(image * input.count)..<((image + 1) * input.count)])
                            let expected = referenceConvTranspose(alone, Array(w), Array(b), input: input, output: output, p)
                            let got = Array(y[(image * output.count)..<((image + 1) * output.count)])
                            #expect(TestSupport.maxAbsDifference(got, expected) < 1e-5)
                            let single = Self.run(alone, batch: 1, output: output.count, scratch: layer.scratchFloats(batch: 1)) {
                                layer.forward($0, batch: 1, into: $1, scratch: $2)
                            }
                            #expect(single.map(\.bitPattern) == got.map(\.bitPattern))
                        }
                        #expect(layer.parameters == p)
                        #expect(layer.runsByPhases == (outChannels >= 16))
                    }
                }
            }
        }
    }
}
