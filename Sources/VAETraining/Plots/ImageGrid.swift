import VAECore

/// Tiles images into one, as torchvision's `make_grid`: `columns` per row, `padding` pixels of
/// `padValue` around and between them.
public enum ImageGrid {
    /// `images` holds `count` images of `shape` (planar); returns the grid's pixels and shape.
    public static func make(_ images: UnsafeBufferPointer<Float>, count: Int, shape: Shape3, columns: Int, padding: Int = 2,
                            padValue: Float = 0) -> (pixels: [Float], shape: Shape3) {
        let across = max(1, min(columns, count))
        let down = (count + across - 1) / across
        let cellH = shape.height + padding, cellW = shape.width + padding
        let grid = Shape3(channels: shape.channels, height: down * cellH + padding, width: across * cellW + padding)
        var out = [Float](repeating: padValue, count: grid.count)
        let plane = shape.height * shape.width, gridPlane = grid.height * grid.width
        for k in 0..<count {
            let top = (k / across) * cellH + padding, left = (k % across) * cellW + padding
            for c in 0..<shape.channels {
                for y in 0..<shape.height {
                    for x in 0..<shape.width {
                        out[c * gridPlane + (top + y) * grid.width + left + x] = images[k * shape.count + c * plane + y * shape.width + x]
                    }
                }
            }
        }
        return (out, grid)
    }
}
