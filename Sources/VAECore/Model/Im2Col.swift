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

    /// The window positions along one axis whose tap at `offset` (ky or kx) lands inside `size`:
    /// position o reads o·stride − padding + offset, which must lie in 0 ..< size.
    @inline(__always)
    func validPositions(offset: Int, size: Int, count: Int) -> Range<Int> {
        let shift = padding - offset
        // o·stride ≥ shift  and  o·stride < size + shift
        let low = shift <= 0 ? 0 : (shift + stride - 1) / stride
        let high = size + shift <= 0 ? 0 : (size + shift + stride - 1) / stride
        return min(low, count)..<max(min(high, count), min(low, count))
    }

    /// Index in the image of the tap (ky, kx) of the window at (oy, 0), when that position is valid: plus
    /// ox·stride for the window at (oy, ox). Wrapping arithmetic: the geometry was validated at load.
    @inline(__always)
    func tapIndex(channel c: Int, row oy: Int, ky: Int, kx: Int) -> Int {
        let y = oy &* stride &- padding &+ ky
        let rowStart = (c &* height &+ y) &* width
        return rowStart &- padding &+ kx
    }

    /// Unfolds `image` into `columns` [patchSize × positions]: column p holds the window at position p.
    /// Rows of `columns` lie `rowStride` floats apart (more than `positions` when several images share
    /// one column matrix side by side). The valid positions of each tap are computed once per row, so
    /// the inner loops have no bounds tests.
    public func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let rowStride = rowStride ?? positions
        var row = 0
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                let rows = validPositions(offset: ky, size: height, count: outputHeight)
                for kx in 0..<kernelWidth {
                    let xs = validPositions(offset: kx, size: width, count: outputWidth)
                    let out = columns + row &* rowStride
                    for oy in 0..<outputHeight {
                        let line = out + oy &* outputWidth
                        guard rows.contains(oy) else {
                            line.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let first = tapIndex(channel: c, row: oy, ky: ky, kx: kx)
                        for ox in 0..<xs.lowerBound { line[ox] = 0 }
                        for ox in xs { line[ox] = image[first &+ ox &* stride] }
                        for ox in xs.upperBound..<outputWidth { line[ox] = 0 }
                    }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every entry of `columns` back into the image pixel it was read from.
    /// `image` is accumulated into, not cleared. `rowStride` as for `im2col`.
    public func col2im(_ columns: UnsafePointer<Float>, addingInto image: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let rowStride = rowStride ?? positions
        var row = 0
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                let rows = validPositions(offset: ky, size: height, count: outputHeight)
                for kx in 0..<kernelWidth {
                    let xs = validPositions(offset: kx, size: width, count: outputWidth)
                    let source = columns + row &* rowStride
                    for oy in rows {
                        let first = tapIndex(channel: c, row: oy, ky: ky, kx: kx)
                        let line = source + oy &* outputWidth
                        for ox in xs { image[first &+ ox &* stride] += line[ox] }
                    }
                    row += 1
                }
            }
        }
    }
}

extension WindowGeometry {
    /// `col2im` in gather form, for the forward pass of a transposed convolution: each image pixel starts
    /// at its channel's bias and receives the column entries that map to it, pixel by pixel, with the
    /// channels innermost. The taps of a pixel are found once for all channels, and the channels' sums
    /// are independent, so the adds overlap instead of waiting on each other (the scatter form spends
    /// its time in short loops and read-modify-write chains).
    ///
    /// Pixels go by residue class modulo the stride: along x, for pixels r, r + s, r + 2s, ... the taps
    /// that reach them are kx ≡ r + padding (mod s), and the window position of tap kx + s·t for the
    /// j-th pixel is `first + j − t`, so the loops need no division.
    public func col2im(_ columns: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, rowStride: Int, bias: UnsafePointer<Float>?) {
        let plane = height * width
        for c in 0..<channels {
            (image + c * plane).update(repeating: bias?[c] ?? 0, count: plane)
        }
        let channelStride = kernelHeight * kernelWidth * rowStride
        for ry in 0..<min(stride, height) {
            let kyFirst = (ry + padding) % stride
            let oyFirst = (ry + padding - kyFirst) / stride
            for rx in 0..<min(stride, width) {
                let kxFirst = (rx + padding) % stride
                let oxFirst = (rx + padding - kxFirst) / stride
                var y = ry, jy = 0
                while y < height {
                    var x = rx, jx = 0
                    while x < width {
                        let pixel = image + (y &* width &+ x)
                        var ky = kyFirst, oy = oyFirst &+ jy
                        while ky < kernelHeight && oy >= 0 {
                            if oy < outputHeight {
                                var kx = kxFirst, ox = oxFirst &+ jx
                                while kx < kernelWidth && ox >= 0 {
                                    if ox < outputWidth {
                                        let tapRow: Int = (ky &* kernelWidth &+ kx) &* rowStride
                                        let tap = columns + (tapRow &+ oy &* outputWidth &+ ox)
                                        for c in 0..<channels { pixel[c &* plane] += tap[c &* channelStride] }
                                    }
                                    kx &+= stride
                                    ox &-= 1
                                }
                            }
                            ky &+= stride
                            oy &-= 1
                        }
                        x &+= stride
                        jx &+= 1
                    }
                    y &+= stride
                    jy &+= 1
                }
            }
        }
    }
}
