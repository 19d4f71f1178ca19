/// A matrix operand in memory: element (row, column) lives at `base[row * rowStride + column * columnStride]`.
///
/// Strides let one kernel read a matrix or its transpose without copying.
public struct MatrixView {
    public var base: UnsafePointer<Float>
    public var rowStride: Int
    public var columnStride: Int

    @inlinable
    public init(_ base: UnsafePointer<Float>, rowStride: Int, columnStride: Int = 1) {
        self.base = base
        self.rowStride = rowStride
        self.columnStride = columnStride
    }

    /// The transpose of this view (no data moves).
    @inlinable
    public var transposed: MatrixView { MatrixView(base, rowStride: columnStride, columnStride: rowStride) }

    @inlinable @inline(__always)
    public subscript(row: Int, column: Int) -> Float { base[row * rowStride + column * columnStride] }
}

/// A constant matrix B [k × n] (a layer's weights) laid out once, at load time, the way the GEMM reads it:
/// column panels of `PackedMatrix.panelWidth`, each holding rows 0 ..< k of its columns contiguously,
/// zero beyond column n. A tile then streams its weights sequentially instead of striding across rows.
///
/// Elements are f32 whatever the file stores. Widening f16 panels on the fly (half the bytes to stream)
/// measured slower on AMD Zen 2, at batch 1 (50 vs 27 µs per image) and at 256: `vcvtph2ps` throughput,
/// not memory, then bounds the loop.
public struct PackedMatrix: @unchecked Sendable {
    public static let panelWidth = 16

    public let rows: Int
    public let columns: Int
    public let values: UnsafePointer<Float>

    /// `values` must hold `elementCount(rows:columns:)` floats packed by `pack`.
    @inlinable
    public init(rows: Int, columns: Int, values: UnsafePointer<Float>) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    @inlinable
    public var panels: Int { PackedMatrix.panels(columns) }

    @inlinable
    public static func panels(_ columns: Int) -> Int { (columns + panelWidth - 1) / panelWidth }

    /// Elements of the packed layout: whole panels.
    public static func elementCount(rows: Int, columns: Int) -> Int { rows * panels(columns) * panelWidth }

    /// Packs row-major `source` [rows × columns] (element (r, c) at `source[r * columns + c]`) into `packed`.
    public static func pack(_ source: UnsafePointer<Float>, rows: Int, columns: Int, into packed: UnsafeMutablePointer<Float>) {
        for panel in 0..<panels(columns) {
            let first = panel * panelWidth
            let width = min(panelWidth, columns - first)
            let out = packed + panel * rows * panelWidth
            for r in 0..<rows {
                let row = out + r * panelWidth
                row.update(from: source + r * columns + first, count: width)
                if width < panelWidth { (row + width).update(repeating: 0, count: panelWidth - width) }
            }
        }
    }
}
