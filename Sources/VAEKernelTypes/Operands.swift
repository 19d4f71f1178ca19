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
/// Elements are f32, or f16 that the tiles widen as they load them (`element`). Both give the same sums
/// (every f16 value is an exact f32), so which one a model packs is a speed and memory choice only
/// (`Kernels.packsHalfPanels`). Embedded builds, which never choose f16 panels, carry no code for them.
public struct PackedMatrix: @unchecked Sendable {
    public static let panelWidth = 16

    public enum Element: Sendable {
        case f32
        #if !hasFeature(Embedded)
        case f16
        #endif
    }

    public let rows: Int
    public let columns: Int
    public let element: Element
    /// `elementCount(rows:columns:)` elements of type `element`, packed by `pack`.
    public let storage: UnsafeRawPointer
    /// How many panels a block of rows runs over before the next block of rows starts: as many as stay in
    /// a core's L2 cache together (set at load from the cache size CPUID gives; all of them by default).
    public var panelsPerBlock = Int.max

    @inlinable
    public init(rows: Int, columns: Int, values: UnsafePointer<Float>) {
        (self.rows, self.columns, self.element, self.storage) = (rows, columns, .f32, UnsafeRawPointer(values))
    }

    #if !hasFeature(Embedded)
    @inlinable
    public init(rows: Int, columns: Int, halves: UnsafePointer<Half>) {
        (self.rows, self.columns, self.element, self.storage) = (rows, columns, .f16, UnsafeRawPointer(halves))
    }
    #endif

    @inlinable
    public var panels: Int { PackedMatrix.panels(columns) }

    @inlinable
    public static func panels(_ columns: Int) -> Int { (columns + panelWidth - 1) / panelWidth }

    /// Elements of the packed layout: whole panels.
    public static func elementCount(rows: Int, columns: Int) -> Int { rows * panels(columns) * panelWidth }

    /// Packs row-major `source` [rows × columns] (element (r, c) at `source[r * columns + c]`) into `packed`,
    /// `zero` past the last column.
    public static func pack<T>(_ source: UnsafePointer<T>, rows: Int, columns: Int, into packed: UnsafeMutablePointer<T>, zero: T) {
        for panel in 0..<panels(columns) {
            let first = panel * panelWidth
            let width = min(panelWidth, columns - first)
            let out = packed + panel * rows * panelWidth
            for r in 0..<rows {
                let row = out + r * panelWidth
                row.initialize(from: source + r * columns + first, count: width)
                if width < panelWidth { (row + width).initialize(repeating: zero, count: panelWidth - width) }
            }
        }
    }
}
