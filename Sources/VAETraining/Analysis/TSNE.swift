import Foundation
import VAECore

/// Barnes-Hut t-SNE to two dimensions (van der Maaten, "Accelerating t-SNE using tree-based algorithms",
/// JMLR 2014), with scikit-learn's optimiser: early exaggeration, momentum 0.5 then 0.8, per-parameter
/// gains. Deterministic: the result depends on the rows, the options and the seed, never on the thread
/// count (each point's forces are its own sums, in a fixed order).
public enum TSNE {
    public enum Initialization: String, CaseIterable, Sendable {
        case pca  // the top two principal components, scaled to standard deviation 1e-4 (scikit-learn's default)
        case random  // N(0, 1e-4²) per coordinate, from the seed
    }

    public struct Options: Sendable {
        public var perplexity = 30.0
        public var iterations = 1000
        /// Cells seen at an angle below θ act as one point; 0 is exact (and O(N²)). At most 0.7, so a cell
        /// that holds the point itself is always opened.
        public var theta = 0.5
        public var exaggeration = 12.0
        public var exaggerationIterations = 250
        /// nil: scikit-learn's "auto", max(N / exaggeration / 4, 50).
        public var learningRate: Double? = nil
        public var initialization = Initialization.pca
        public var seed: UInt64 = 0

        public init() {}

        /// Why these options cannot embed `count` points, or nil.
        public func problem(count: Int) -> String? {
            if count < 2 { return "t-SNE needs at least 2 points, got \(count)" }
            if !(perplexity > 0 && perplexity < Double(count)) { return "the perplexity must be above 0 and below the number of points (\(count)), got \(perplexity)" }
            if iterations < 1 { return "t-SNE needs at least 1 iteration, got \(iterations)" }
            if !(0...0.7).contains(theta) { return "theta must be 0 to 0.7, got \(theta)" }
            if let rate = learningRate, !(rate > 0 && rate.isFinite) { return "the learning rate must be positive, got \(rate)" }
            return nil
        }
    }

    public struct Embedding: Sendable {
        public var points: [(x: Float, y: Float)]
        /// KL(P ‖ Q) of the final embedding, computed exactly (all N² pairs for Q's normaliser).
        public var klDivergence: Double
    }

    /// Embeds `count` rows of `dim` values in 2-d. Precondition: `options.problem(count:)` is nil.
    public static func embed(_ rows: [Float], count: Int, dim: Int, options: Options, threads: Int) -> Embedding {
        precondition(options.problem(count: count) == nil, options.problem(count: count) ?? "")
        let p = SparseAffinities(rows: rows, count: count, dim: dim, perplexity: options.perplexity, threads: threads)
        var y = initialPositions(rows, count: count, dim: dim, options: options)
        optimise(&y, p: p, options: options, threads: threads)
        let kl = klDivergence(p: p, y: y, threads: threads)
        return Embedding(points: (0..<count).map { (Float(y[2 * $0]), Float(y[2 * $0 + 1])) }, klDivergence: kl)
    }

    @_spi(Testing) public static func initialPositions(_ rows: [Float], count: Int, dim: Int, options: Options) -> [Double] {
        var y = [Double](repeating: 0, count: 2 * count)
        switch options.initialization {
        case .pca:
            let projected = PCA.project(rows, count: count, dim: dim)
            let xs = projected.map { Double($0.x) }
            let mean = xs.reduce(0, +) / Double(count)
            let sd = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(count)).squareRoot()
            let scale = sd > 0 ? 1e-4 / sd : 1
            for (i, point) in projected.enumerated() { y[2 * i] = Double(point.x) * scale; y[2 * i + 1] = Double(point.y) * scale }
        case .random:
            let stream = RandomStream(seed: options.seed, purpose: .embeddingInitialization)
            var pair = [Float](repeating: 0, count: 2)
            for i in 0..<count {
                pair.withUnsafeMutableBufferPointer { stream.normals(item: UInt64(i), into: $0) }
                y[2 * i] = 1e-4 * Double(pair[0]); y[2 * i + 1] = 1e-4 * Double(pair[1])
            }
        }
        return y
    }

    /// Gradient descent as scikit-learn's `_gradient_descent`, run for the whole iteration count.
    static func optimise(_ y: inout [Double], p: SparseAffinities, options: Options, threads: Int) {
        let n = p.count
        let rate = options.learningRate ?? max(Double(n) / options.exaggeration / 4, 50)
        var update = [Double](repeating: 0, count: 2 * n), gains = [Double](repeating: 1, count: 2 * n)
        var grad = [Double](repeating: 0, count: 2 * n)
        var forces = Forces(count: n)
        for iteration in 0..<options.iterations {
            let exploring = iteration < options.exaggerationIterations
            let momentum = exploring ? 0.5 : 0.8
            gradient(p: p, exaggeration: exploring ? options.exaggeration : 1, y: y, theta: options.theta, threads: threads, forces: &forces, into: &grad)
            for k in 0..<2 * n {
                gains[k] = update[k] * grad[k] < 0 ? gains[k] + 0.2 : gains[k] * 0.8
                gains[k] = max(gains[k], 0.01)
                update[k] = momentum * update[k] - rate * gains[k] * grad[k]
                y[k] += update[k]
            }
        }
    }

    /// Per-point sums of one gradient evaluation, kept between iterations.
    @_spi(Testing) public struct Forces {
        public internal(set) var repulsion: [Double], normaliser: [Double]
        public init(count: Int) {
            repulsion = [Double](repeating: 0, count: 2 * count)
            normaliser = [Double](repeating: 0, count: count)
        }
    }

    /// ∂KL/∂y_i = 4 (Σ_j a·p_ij w_ij (y_i − y_j) − Σ_j w_ij² (y_i − y_j) / Z), w = 1 / (1 + d²),
    /// Z = Σ_{k≠l} w_kl, a the exaggeration; the second sum and Z from the quadtree at angle θ.
    @_spi(Testing) public static func gradient(p: SparseAffinities, exaggeration: Double, y: [Double], theta: Double, threads: Int, forces: inout Forces, into grad: inout [Double]) {
        let n = p.count
        y.withUnsafeBufferPointer { y in
            let tree = QuadTree(points: y, count: n)
            let thetaSquared = theta * theta
            forces.repulsion.withUnsafeMutableBufferPointer { repulsion in
                forces.normaliser.withUnsafeMutableBufferPointer { normaliser in
                    grad.withUnsafeMutableBufferPointer { attraction in
                        nonisolated(unsafe) let (repulsion, normaliser, attraction) = (repulsion, normaliser, attraction)
                        RowParallel.forEachRun(count: n, workers: threads, granule: 64) { _, range in
                            for i in range {
                                let xi = y[2 * i], yi = y[2 * i + 1]
                                let r = tree.repulsion(x: xi, y: yi, thetaSquared: thetaSquared)
                                repulsion[2 * i] = r.fx; repulsion[2 * i + 1] = r.fy; normaliser[i] = r.z
                                var ax = 0.0, ay = 0.0
                                for e in p.rowStart[i] ..< p.rowStart[i + 1] {
                                    let j = Int(p.columns[e])
                                    let dx = xi - y[2 * j], dy = yi - y[2 * j + 1]
                                    let pw = p.values[e] / (1 + dx * dx + dy * dy)
                                    ax += pw * dx; ay += pw * dy
                                }
                                attraction[2 * i] = exaggeration * ax; attraction[2 * i + 1] = exaggeration * ay
                            }
                        }
                    }
                }
            }
        }
        let z = max(forces.normaliser.reduce(0, +), .leastNormalMagnitude)
        for k in 0..<2 * n { grad[k] = 4 * (grad[k] - forces.repulsion[k] / z) }
    }

    /// KL(P ‖ Q) = Σ p_ij log(p_ij / q_ij) over P's entries, with Q's normaliser summed over all pairs.
    @_spi(Testing) public static func klDivergence(p: SparseAffinities, y: [Double], threads: Int) -> Double {
        let n = p.count
        var rowSums = [Double](repeating: 0, count: n)
        y.withUnsafeBufferPointer { y in
            rowSums.withUnsafeMutableBufferPointer { sums in
                nonisolated(unsafe) let sums = sums
                RowParallel.forEachRun(count: n, workers: threads, granule: 64) { _, range in
                    for i in range {
                        var s = 0.0
                        for j in 0..<n where j != i {
                            let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                            s += 1 / (1 + dx * dx + dy * dy)
                        }
                        sums[i] = s
                    }
                }
            }
        }
        let logZ = log(rowSums.reduce(0, +))
        var kl = 0.0
        for i in 0..<n {
            for e in p.rowStart[i] ..< p.rowStart[i + 1] where p.values[e] > 0 {
                let j = Int(p.columns[e])
                let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                kl += p.values[e] * (log(p.values[e]) + log(1 + dx * dx + dy * dy) + logZ)
            }
        }
        return kl
    }
}
