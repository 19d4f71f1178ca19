import Foundation
import Testing
import VAECore
@_spi(Testing) import VAETraining

/// Barnes-Hut t-SNE: affinities, the gradient against finite differences of the exact KL, the tree's
/// approximation, and embeddings of a clustered set.
@Suite struct TSNETests {
    /// `perCluster` points around each of `clusters` centres 8 apart in `dim` dimensions, unit spread.
    static func clusters(_ clusters: Int, perCluster: Int, dim: Int, seed: UInt64 = 1) -> (rows: [Float], labels: [Int]) {
        let stream = RandomStream(seed: seed, purpose: .latentSample)
        var rows = [Float](repeating: 0, count: clusters * perCluster * dim), labels: [Int] = []
        for c in 0..<clusters {
            for k in 0..<perCluster {
                let i = c * perCluster + k
                rows.withUnsafeMutableBufferPointer { stream.normals(item: UInt64(i), into: UnsafeMutableBufferPointer(rebasing: $0[i * dim ..< (i + 1) * dim])) }
                rows[i * dim + c % dim] += 8
                labels.append(c)
            }
        }
        return (rows, labels)
    }

    static func randomLayout(_ count: Int, scale: Double, seed: UInt64) -> [Double] {
        let stream = RandomStream(seed: seed, purpose: .embeddingInitialization)
        var v = [Float](repeating: 0, count: 2 * count)
        v.withUnsafeMutableBufferPointer { stream.normals(item: 99, into: $0) }
        return v.map { Double($0) * scale }
    }

    /// The affinities of a clustered set and a random layout of its points at the given scale.
    static func problem(_ clusters: Int, perCluster: Int, dim: Int, perplexity: Double, layoutScale: Double) -> (SparseAffinities, [Double]) {
        let rows = TSNETests.clusters(clusters, perCluster: perCluster, dim: dim).rows, n = clusters * perCluster
        return (SparseAffinities(rows: rows, count: n, dim: dim, perplexity: perplexity, threads: 2), randomLayout(n, scale: layoutScale, seed: 3))
    }

    static func options(perplexity: Double, iterations: Int) -> TSNE.Options {
        var options = TSNE.Options()
        options.perplexity = perplexity
        options.iterations = iterations
        return options
    }

    @Test("each point's conditional distribution has the perplexity asked for; P is symmetric and sums to 1")
    func affinities() {
        let (rows, _) = TSNETests.clusters(3, perCluster: 40, dim: 6)
        let (_, conditional) = SparseAffinities.conditional(rows: rows, count: 120, dim: 6, neighbours: 31, perplexity: 10, threads: 2)
        for i in 0..<120 {
            let row = conditional[i * 31 ..< (i + 1) * 31]
            #expect(abs(row.reduce(0, +) - 1) < 1e-12)
            let entropy = -row.filter { $0 > 0 }.map { $0 * log($0) }.reduce(0, +)
            #expect(abs(exp(entropy) - 10) < 1e-3, "row \(i): perplexity \(exp(entropy))")
        }
        let p = SparseAffinities(rows: rows, count: 120, dim: 6, perplexity: 10, threads: 1)
        #expect(abs(p.values.reduce(0, +) - 1) < 1e-12)
        var entries: [Int: Double] = [:]
        for i in 0..<p.count { for e in p.rowStart[i] ..< p.rowStart[i + 1] { entries[i * 1000 + Int(p.columns[e])] = p.values[e] } }
        for (key, v) in entries { #expect(entries[(key % 1000) * 1000 + key / 1000] == v) }
        #expect(entries.keys.allSatisfy { $0 / 1000 != $0 % 1000 })  // no point is its own neighbour
    }

    @Test("with θ = 0 the gradient is the exact KL's, against central differences")
    func gradientMatchesFiniteDifferences() {
        let n = 36
        let (p, layout) = TSNETests.problem(3, perCluster: 12, dim: 5, perplexity: 8, layoutScale: 2)
        var y = layout
        var grad = [Double](repeating: 0, count: 2 * n), forces = TSNE.Forces(count: n)
        TSNE.gradient(p: p, exaggeration: 1, y: y, theta: 0, threads: 1, forces: &forces, into: &grad)
        let h = 1e-6
        for k in 0..<2 * n {
            let saved = y[k]
            y[k] = saved + h; let up = TSNE.klDivergence(p: p, y: y, threads: 1)
            y[k] = saved - h; let down = TSNE.klDivergence(p: p, y: y, threads: 1)
            y[k] = saved
            let numeric = (up - down) / (2 * h)
            #expect(abs(grad[k] - numeric) <= 1e-7 + 1e-5 * abs(numeric), "coordinate \(k): \(grad[k]) vs \(numeric)")
        }
    }

    @Test("at θ = 0.5 the tree's gradient is within 2% of the exact one, and duplicates are counted, not lost")
    func barnesHutApproximation() {
        let n = 400
        let (p, layout) = TSNETests.problem(4, perCluster: 100, dim: 8, perplexity: 30, layoutScale: 10)
        var y = layout
        y[2] = y[0]; y[3] = y[1]  // points 0 and 1 coincide
        var exact = [Double](repeating: 0, count: 2 * n), approximate = exact, forces = TSNE.Forces(count: n)
        TSNE.gradient(p: p, exaggeration: 1, y: y, theta: 0, threads: 2, forces: &forces, into: &exact)
        let exactZ = forces.normaliser.reduce(0, +)
        var bruteZ = 0.0
        for i in 0..<n { for j in 0..<n where j != i { bruteZ += 1 / (1 + pow(y[2 * i] - y[2 * j], 2) + pow(y[2 * i + 1] - y[2 * j + 1], 2)) } }
        #expect(abs(exactZ - bruteZ) <= 1e-9 * bruteZ, "Z \(exactZ) vs \(bruteZ)")
        TSNE.gradient(p: p, exaggeration: 1, y: y, theta: 0.5, threads: 2, forces: &forces, into: &approximate)
        let error = zip(exact, approximate).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let norm = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(error < 0.02 * norm, "relative error \(error / norm)")
        #expect(error > 0, "θ = 0.5 summarised no cell")
    }

    @Test("three clusters in 10-d come out as three clusters in 2-d, KL falls, and the bits do not depend on threads")
    func embedsClusters() {
        let (rows, labels) = TSNETests.clusters(3, perCluster: 60, dim: 10)
        let options = TSNETests.options(perplexity: 15, iterations: 400)
        let one = TSNE.embed(rows, count: 180, dim: 10, options: options, threads: 1)
        let two = TSNE.embed(rows, count: 180, dim: 10, options: options, threads: 2)
        #expect(one.points.map(\.x) == two.points.map(\.x) && one.points.map(\.y) == two.points.map(\.y))
        #expect(one.klDivergence == two.klDivergence)
        // Every point's 10 nearest neighbours in the map share its cluster.
        for i in 0..<180 {
            let nearest = (0..<180).filter { $0 != i }.sorted {
                hypot(one.points[$0].x - one.points[i].x, one.points[$0].y - one.points[i].y) < hypot(one.points[$1].x - one.points[i].x, one.points[$1].y - one.points[i].y)
            }.prefix(10)
            #expect(nearest.allSatisfy { labels[$0] == labels[i] }, "point \(i)")
        }
        let p = SparseAffinities(rows: rows, count: 180, dim: 10, perplexity: 15, threads: 1)
        let start = TSNE.klDivergence(p: p, y: TSNE.initialPositions(rows, count: 180, dim: 10, options: options), threads: 1)
        #expect(one.klDivergence < 0.5 * start, "KL \(start) → \(one.klDivergence)")
        #expect(one.klDivergence > 0)
    }

    @Test("a random start follows the seed")
    func randomStart() {
        let (rows, _) = TSNETests.clusters(2, perCluster: 30, dim: 4)
        var options = TSNETests.options(perplexity: 10, iterations: 50)
        options.initialization = .random
        options.seed = 7
        let a = TSNE.embed(rows, count: 60, dim: 4, options: options, threads: 2).points.map(\.x)
        #expect(a == TSNE.embed(rows, count: 60, dim: 4, options: options, threads: 1).points.map(\.x))
        options.seed = 8
        #expect(a != TSNE.embed(rows, count: 60, dim: 4, options: options, threads: 2).points.map(\.x))
    }

    @Test("options that cannot work are named")
    func problems() {
        var options = TSNE.Options()
        #expect(options.problem(count: 30)?.contains("below the number of points (30)") == true)
        #expect(options.problem(count: 1)?.contains("at least 2 points") == true)
        options.perplexity = 5
        #expect(options.problem(count: 30) == nil)
        options.theta = 0.9
        #expect(options.problem(count: 30)?.contains("theta") == true)
    }
}
