/// A dense layer's int8 weights B [k × n], one f32 scale per column (output), in the layout the integer
/// kernels read and the weights file stores (element type 4, `q8Panels`), so a model runs on them where
/// they lie:
///
/// - `scales`: n floats; weight (r, c) = scales[c] · q(r, c).
/// - `values`: panels of `panelWidth` = 8 columns; in each, groups of `groupDepth` = 4 consecutive rows;
///   a group is 32 bytes, column after column, each column's 4 rows adjacent. q(r, c) is at
///   `values[((c / 8) · groups + r / 4) · 32 + (c % 8) · 4 + r % 4]`; rows past k and columns past n are 0.
///
/// One group is one AVX2 register (8 columns × 4 rows for `vpmaddubsw`/`vpmaddwd`), four NEON columns per
/// 16 bytes, and one 32-bit word per column for Cortex-M's dual multiply-accumulate (SXTB16 + SMLAD).
/// Values are in −127...127 (the file's reader refuses −128), so a product pair never saturates 16 bits.
public struct Int8Panels: @unchecked Sendable {
    public static let panelWidth = 8
    public static let groupDepth = 4
    /// Bytes of one group: `panelWidth × groupDepth`.
    public static let groupBytes = 32
    /// Rows at most: k · 127² must fit the int32 accumulators.
    public static let maxRows = 1 << 17

    public let rows: Int
    public let columns: Int
    public let scales: UnsafePointer<Float>
    public let values: UnsafePointer<Int8>

    @inlinable
    public init(rows: Int, columns: Int, scales: UnsafePointer<Float>, values: UnsafePointer<Int8>) {
        self.rows = rows
        self.columns = columns
        self.scales = scales
        self.values = values
    }

    @inlinable public var groups: Int { Int8Panels.groups(rows) }
    @inlinable public var panels: Int { Int8Panels.panels(columns) }
    @inlinable public static func groups(_ rows: Int) -> Int { (rows + groupDepth - 1) / groupDepth }
    @inlinable public static func panels(_ columns: Int) -> Int { (columns + panelWidth - 1) / panelWidth }

    /// Bytes of the scales, padded to 64 so that the values start 64-byte aligned.
    @inlinable
    public static func scaleBytes(columns: Int) -> Int { (4 * columns + 63) / 64 * 64 }

    /// Bytes of the values: whole panels of whole groups.
    @inlinable
    public static func valueBytes(rows: Int, columns: Int) -> Int { panels(columns) * groups(rows) * groupBytes }

    /// Where q(row, column) lies in `values`.
    @inlinable
    public static func index(row: Int, column: Int, rows: Int) -> Int {
        ((column / panelWidth) * groups(rows) + row / groupDepth) * groupBytes + (column % panelWidth) * groupDepth + row % groupDepth
    }

    /// q(row, column).
    @inlinable
    public subscript(row: Int, column: Int) -> Int8 { values[Int8Panels.index(row: row, column: column, rows: rows)] }
}

/// Rows of activations quantized for the integer kernels: row r is `values[r · rowBytes ..< (r + 1) · rowBytes]`
/// (k values, zero-padded to whole groups of 4), and x(r, j) ≈ scales[r] · q(r, j).
public struct Int8Rows {
    public var values: UnsafePointer<Int8>
    public var scales: UnsafePointer<Float>
    public var rowBytes: Int
    /// No value is negative: the AVX2 kernel then skips the sign trick (|x| = x).
    public var nonNegative: Bool

    @inlinable
    public init(values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rowBytes: Int, nonNegative: Bool = false) {
        self.values = values
        self.scales = scales
        self.rowBytes = rowBytes
        self.nonNegative = nonNegative
    }

    /// Bytes of one quantized row of k values: whole groups.
    @inlinable
    public static func rowBytes(_ k: Int) -> Int { Int8Panels.groups(k) * Int8Panels.groupDepth }
}
