import Foundation

/// t-SNE's input affinities P (van der Maaten 2014, section 4.1): for each point, a Gaussian over its
/// 3·perplexity + 1 nearest neighbours whose precision is found by bisection so that the conditional
/// distribution's perplexity is the one asked for; then P = (P_{j|i} + P_{i|j}) / 2N, sparse.
@_spi(Testing) public struct SparseAffinities: Sendable {
    /// Row i's entries are columns[rowStart[i] ..< rowStart[i + 1]] with the same range of values.
    public var rowStart: [Int]
    public var columns: [Int32]
    public var values: [Double]

    public var count: Int { rowStart.count - 1 }

    /// The joint affinities of `count` rows of `dim` values (squared Euclidean distances, as scikit-learn).
    public init(rows: [Float], count: Int, dim: Int, perplexity: Double, threads: Int) {
        let k = min(count - 1, Int(3 * perplexity + 1))  // scikit-learn's neighbour count
        let (neighbours, conditional) = SparseAffinities.conditional(rows: rows, count: count, dim: dim, neighbours: k, perplexity: perplexity, threads: threads)
        self = SparseAffinities.symmetrised(neighbours: neighbours, conditional: conditional, count: count, perRow: k)
    }

    /// Row i's k nearest neighbours (ties broken by index) and P_{j|i} over them, row-major, k per row.
    public static func conditional(rows: [Float], count: Int, dim: Int, neighbours k: Int, perplexity: Double, threads: Int) -> (neighbours: [Int32], p: [Double]) {
        var neighbours = [Int32](repeating: 0, count: count * k)
        var p = [Double](repeating: 0, count: count * k)
        let target = log(perplexity)
        rows.withUnsafeBufferPointer { x in
            neighbours.withUnsafeMutableBufferPointer { nb in
                p.withUnsafeMutableBufferPointer { pp in
                    nonisolated(unsafe) let (nb, pp) = (nb, pp)
                    RowParallel.forEachRun(count: count, workers: threads, granule: 16) { _, range in
                        var distance = [Double](repeating: 0, count: count)
                        var nearest = NearestList(capacity: k)
                        for i in range {
                            squaredDistances(from: i, x: x, count: count, dim: dim, into: &distance)
                            nearest.reset()
                            for j in 0..<count where j != i { nearest.offer(distance[j], Int32(j)) }
                            let sorted = nearest.sorted()
                            for (n, entry) in sorted.enumerated() { nb[i * k + n] = entry.index; pp[i * k + n] = entry.distance }
                            calibrate(UnsafeMutableBufferPointer(rebasing: pp[i * k ..< i * k + k]), entropy: target)
                        }
                    }
                }
            }
        }
        return (neighbours, p)
    }

    static func squaredDistances(from i: Int, x: UnsafeBufferPointer<Float>, count: Int, dim: Int, into out: inout [Double]) {
        for j in 0..<count {
            var s: Double = 0
            for d in 0..<dim {
                let diff = Double(x[i * dim + d]) - Double(x[j * dim + d])
                s += diff * diff
            }
            out[j] = s
        }
    }

    /// Replaces the squared distances in `row` by P_{j|i} ∝ exp(−β d_j), with β bisected (100 steps at most,
    /// as scikit-learn) until the entropy is `entropy` nats within 1e-5. Distances are taken relative to the
    /// nearest, which leaves P unchanged and keeps exp from underflowing for far-apart data.
    static func calibrate(_ row: UnsafeMutableBufferPointer<Double>, entropy target: Double) {
        guard let nearest = row.min() else { return }
        let d = row.map { $0 - nearest }
        var beta = 1.0, low = -Double.infinity, high = Double.infinity
        for _ in 0..<100 {
            var sum = 0.0, weighted = 0.0
            for (n, dn) in d.enumerated() {
                let e = exp(-dn * beta)
                row[n] = e
                sum += e
                weighted += dn * e
            }
            let entropy = log(sum) + beta * weighted / sum
            for n in 0..<row.count { row[n] /= sum }
            let gap = entropy - target
            if abs(gap) <= 1e-5 { break }
            if gap > 0 {
                low = beta
                beta = high == .infinity ? beta * 2 : (beta + high) / 2
            } else {
                high = beta
                beta = low == -.infinity ? beta / 2 : (beta + low) / 2
            }
        }
    }

    /// P = (C + Cᵀ) / sum, with C the conditional rows: each row's columns sorted, duplicates merged.
    static func symmetrised(neighbours: [Int32], conditional: [Double], count: Int, perRow k: Int) -> SparseAffinities {
        var degree = [Int](repeating: 0, count: count + 1)
        for i in 0..<count {
            for n in 0..<k {
                degree[i + 1] += 1
                degree[Int(neighbours[i * k + n]) + 1] += 1
            }
        }
        for i in 0..<count { degree[i + 1] += degree[i] }
        var fill = degree
        var entries = [(column: Int32, value: Double)](repeating: (0, 0), count: degree[count])
        for i in 0..<count {
            for n in 0..<k {
                let j = Int(neighbours[i * k + n]), v = conditional[i * k + n]
                entries[fill[i]] = (Int32(j), v); fill[i] += 1
                entries[fill[j]] = (Int32(i), v); fill[j] += 1
            }
        }
        var rowStart = [0], columns: [Int32] = [], values: [Double] = []
        columns.reserveCapacity(entries.count); values.reserveCapacity(entries.count)
        for i in 0..<count {
            let row = entries[degree[i] ..< degree[i + 1]].sorted { $0.column < $1.column }
            for e in row {
                if let last = columns.last, columns.count > rowStart[i], last == e.column {
                    values[values.count - 1] += e.value
                } else {
                    columns.append(e.column); values.append(e.value)
                }
            }
            rowStart.append(columns.count)
        }
        let total = max(values.reduce(0, +), Double.leastNormalMagnitude)
        return SparseAffinities(rowStart: rowStart, columns: columns, values: values.map { $0 / total })
    }

    private init(rowStart: [Int], columns: [Int32], values: [Double]) {
        self.rowStart = rowStart
        self.columns = columns
        self.values = values
    }
}

/// The k smallest (distance, index) pairs offered, as a bounded max-heap; ties go to the lower index.
struct NearestList {
    typealias Entry = (distance: Double, index: Int32)
    private var heap: [Entry] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    mutating func reset() { heap.removeAll(keepingCapacity: true) }

    private static func before(_ a: Entry, _ b: Entry) -> Bool { a.distance < b.distance || (a.distance == b.distance && a.index < b.index) }

    mutating func offer(_ distance: Double, _ index: Int32) {
        let e = (distance, index)
        if heap.count < capacity {
            heap.append(e)
            var c = heap.count - 1
            while c > 0, NearestList.before(heap[(c - 1) / 2], heap[c]) { heap.swapAt(c, (c - 1) / 2); c = (c - 1) / 2 }
        } else if capacity > 0, NearestList.before(e, heap[0]) {
            heap[0] = e
            var c = 0
            while true {
                var largest = c
                let left = 2 * c + 1, right = left + 1
                if left < heap.count, NearestList.before(heap[largest], heap[left]) { largest = left }
                if right < heap.count, NearestList.before(heap[largest], heap[right]) { largest = right }
                if largest == c { break }
                heap.swapAt(c, largest); c = largest
            }
        }
    }

    func sorted() -> [Entry] { heap.sorted(by: NearestList.before) }
}
