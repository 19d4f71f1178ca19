/// The sliding-window geometry of a 2-D convolution over one image (channels × height × width, row-major).
///
/// A window position (oy, ox) reads input rows oy·stride − padding + ky and columns ox·stride − padding + kx;
/// reads outside the image are zeros.
public struct WindowGeometry: Equatable, Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int
    /// Window positions down and across.
    public var outputHeight: Int
    public var outputWidth: Int

    public init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int,
                outputHeight: Int, outputWidth: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    /// The windows of `parameters` over `image`, one per position of `positions` (its height and width).
    public init(over image: Shape3, positions: Shape3, parameters p: ConvParameters) {
        self.init(channels: image.channels, height: image.height, width: image.width, kernelHeight: p.kernelHeight, kernelWidth: p.kernelWidth,
                  stride: p.stride, padding: p.padding, outputHeight: positions.height, outputWidth: positions.width)
    }

    /// Rows of the column matrix: channels × kernel height × kernel width.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the column matrix: window positions.
    public var positions: Int { outputHeight * outputWidth }

    /// Unfolds `image` into `columns` [patchSize × positions]: column p holds the window at position p.
    public func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let out = columns + row * positions
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        let line = out + oy * outputWidth
                        guard y >= 0 && y < height else {
                            line.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let source = image + (c * height + y) * width
                        for ox in 0..<outputWidth {
                            let x = ox * stride - padding + kx
                            line[ox] = x >= 0 && x < width ? source[x] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every entry of `columns` back into the image pixel it was read from.
    /// `image` is accumulated into, not cleared.
    public func col2im(_ columns: UnsafePointer<Float>, addingInto image: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let source = columns + row * positions
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        guard y >= 0 && y < height else { continue }
                        let target = image + (c * height + y) * width
                        let line = source + oy * outputWidth
                        for ox in 0..<outputWidth {
                            let x = ox * stride - padding + kx
                            if x >= 0 && x < width { target[x] += line[ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
