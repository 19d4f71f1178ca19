import VAECore

/// The PixelCNN prior over a VQ-VAE's code grid (van den Oord et al. 2016, as the VQ-VAE paper uses it):
/// the grid of code vectors in, a masked type A convolution, type B 3 × 3 convolutions, and a 1 × 1
/// convolution to K logits a position. The input is the codebook's own vectors, so the prior needs no
/// embedding of its own.
public struct PriorShape: Equatable, Sendable {
    /// The code grid: D × H × W (D the codebook's vector length).
    public var grid: Shape3
    /// K, the codebook's size.
    public var codes: Int
    /// Feature channels of the hidden layers.
    public var channels: Int
    /// Type B 3 × 3 layers after the first.
    public var hiddenLayers: Int
    /// The type A layer's kernel side (odd).
    public var firstKernel: Int

    public init(grid: Shape3, codes: Int, channels: Int = 64, hiddenLayers: Int = 4, firstKernel: Int = 5) {
        (self.grid, self.codes, self.channels, self.hiddenLayers, self.firstKernel) = (grid, codes, channels, hiddenLayers, firstKernel)
    }

    public var positions: Int { grid.height * grid.width }

    /// The layers, in order, as the file's `prior` stack holds them.
    public var layers: [LayerSpec] {
        let hidden = Shape3(channels: channels, height: grid.height, width: grid.width)
        let logits = Shape3(channels: codes, height: grid.height, width: grid.width)
        func masked(_ k: Int, _ input: Shape3, _ output: Shape3, _ mask: ConvMask, _ activation: Activation, _ index: Int) -> LayerSpec {
            LayerSpec(stack: .prior, index: index, kind: .maskedConv2d, input: input, output: output,
                      parameters: ConvParameters(kernelHeight: k, kernelWidth: k, stride: 1, padding: k / 2), activation: activation, mask: mask)
        }
        var out = [masked(firstKernel, grid, hidden, .a, .relu, 0)]
        for i in 0..<hiddenLayers { out.append(masked(3, hidden, hidden, .b, .relu, i + 1)) }
        out.append(masked(1, hidden, logits, .b, .identity, hiddenLayers + 1))
        return out
    }

    public func validate() throws(VaertError) {
        guard channels > 0, hiddenLayers >= 0, firstKernel > 1, firstKernel % 2 == 1, firstKernel < 64 else {
            throw VaertError(.invalidArgument, "the prior needs positive channels, 0 or more hidden layers and an odd first kernel from 3 to 63")
        }
    }

    public var summary: String {
        "PixelCNN prior: \(firstKernel)x\(firstKernel) type A, \(hiddenLayers) x 3x3 type B, 1x1 to \(codes) logits; \(channels) channels over the \(grid.height)x\(grid.width) grid"
    }
}
