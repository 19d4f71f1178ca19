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

    /// `im2col` transposed, in one pass: `rows` [positions × patchSize], row p holding the window at
    /// position p (the layout a weight gradient's GEMM reads). Window by window, each kernel row is a run
    /// of the image's row; only windows over the border test their taps.
    public func im2row(_ image: UnsafePointer<Float>, into rows: UnsafeMutablePointer<Float>) {
        let patch = patchSize, plane = height * width
        for oy in 0..<outputHeight {
            let y0 = oy &* stride &- padding
            for ox in 0..<outputWidth {
                let x0 = ox &* stride &- padding
                let inside = y0 >= 0 && y0 + kernelHeight <= height && x0 >= 0 && x0 + kernelWidth <= width
                var out = rows + (oy &* outputWidth &+ ox) &* patch
                for c in 0..<channels {
                    for ky in 0..<kernelHeight {
                        let y = y0 &+ ky
                        let line = image + (c &* plane &+ y &* width &+ x0)
                        if inside {
                            for kx in 0..<kernelWidth { out[kx] = line[kx] }
                        } else {
                            for kx in 0..<kernelWidth {
                                let x = x0 &+ kx
                                out[kx] = y >= 0 && y < height && x >= 0 && x < width ? line[kx] : 0
                            }
                        }
                        out += kernelWidth
                    }
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
    /// `col2im` for the forward pass of a transposed convolution, over `images` images interleaved: entry
    /// `i` of a column or pixel is image `i`'s, so every step moves one vector of images and the window
    /// arithmetic is done once for all of them. `columns` holds one channel's kernel taps (rows ky·kW + kx,
    /// `rowStride` floats apart, window position p at `p · images`); `plane` receives that channel's
    /// pixels (pixel q at `q · images`), starting from `bias`. Each pixel's sum is the bias, then its taps
    /// in (ky, kx) order, whatever the number of images, so an image's bits do not depend on its batch.
    public func foldInterleaved(_ columns: UnsafePointer<Float>, rowStride: Int, images: Int, into plane: UnsafeMutablePointer<Float>, bias: Float) {
        plane.update(repeating: bias, count: height * width * images)
        for ky in 0..<kernelHeight {
            let rows = validPositions(offset: ky, size: height, count: outputHeight)
            for kx in 0..<kernelWidth {
                let xs = validPositions(offset: kx, size: width, count: outputWidth)
                let source = columns + (ky * kernelWidth + kx) * rowStride
                for oy in rows {
                    let first = tapIndex(channel: 0, row: oy, ky: ky, kx: kx)
                    let line = source + oy &* outputWidth &* images
                    for ox in xs {
                        addImages(line + ox &* images, into: plane + (first &+ ox &* stride) &* images, count: images)
                    }
                }
            }
        }
    }
}

/// `target[0 ..< count] += source[0 ..< count]`, a vector at a time (count is at most a few vectors).
@inline(__always)
func addImages(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    #if !VAERT_COMPACT_KERNELS
    while i + 8 <= count {
        let sum = UnsafeRawPointer(target + i).loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: SIMD8<Float>.self)
        i += 8
    }
    #endif
    while i < count {
        target[i] += source[i]
        i += 1
    }
}
