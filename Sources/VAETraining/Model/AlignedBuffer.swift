/// A fixed-size, 64-byte aligned, zero-initialised array with a stable address, for parameters, optimizer
/// state and activations: kernels take its pointer without copies or exclusivity checks.
public final class AlignedBuffer<Element: Numeric>: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Element>

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Element>.stride, alignment: 64)
        pointer = raw.initializeMemory(as: Element.self, repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Element]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> Element {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

public typealias FloatBuffer = AlignedBuffer<Float>
public typealias DoubleBuffer = AlignedBuffer<Double>
