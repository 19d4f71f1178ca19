/// A Barnes-Hut quadtree over 2-d points, for t-SNE's repulsive forces: a cell far enough from a point,
/// seen at an angle below θ (cell width / distance < θ), acts as all its points at their centre of mass.
struct QuadTree {
    /// A cell, compact for the walk: centre of mass, squared width, point count, first of four children
    /// (−1 for a leaf, whose points all lie at its centre of mass).
    struct Cell {
        var massX: Double, massY: Double
        var widthSquared: Double
        var count: Double
        var firstChild: Int32
    }

    private(set) var cells: [Cell] = []
    /// Beyond this depth coincident-enough points share a leaf; it also bounds the walk's stack.
    static let maxDepth = 60

    /// The tree of `count` points, x and y interleaved.
    init(points y: UnsafeBufferPointer<Double>, count: Int) {
        var builder = Builder(points: y, count: count)
        for i in 0..<count { builder.insert(x: y[2 * i], y: y[2 * i + 1]) }
        cells = builder.cells.map { b in
            Cell(massX: b.count > 0 ? b.sumX / Double(b.count) : 0, massY: b.count > 0 ? b.sumY / Double(b.count) : 0,
                 widthSquared: 4 * b.half * b.half, count: Double(b.count), firstChild: b.firstChild)
        }
    }

    /// The repulsion on a point at (x, y) that is one of the tree's points: Σ_j w_j² (y − y_j) and
    /// Σ_j w_j over the other points, w_j = 1 / (1 + |y − y_j|²), cells summarised at angle θ.
    func repulsion(x: Double, y: Double, thetaSquared: Double) -> (fx: Double, fy: Double, z: Double) {
        var fx = 0.0, fy = 0.0, z = 0.0
        cells.withUnsafeBufferPointer { cells in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * QuadTree.maxDepth + 8) { stack in
                var top = 0
                stack[0] = 0
                top = 1
                while top > 0 {
                    top -= 1
                    let cell = cells[Int(stack[top])]
                    if cell.count == 0 { continue }
                    let dx = x - cell.massX, dy = y - cell.massY
                    let d2 = dx * dx + dy * dy
                    if cell.firstChild < 0 || cell.widthSquared < thetaSquared * d2 {
                        // A leaf at distance 0 holds the point itself (and any exact duplicates).
                        let m = cell.firstChild < 0 && d2 == 0 ? cell.count - 1 : cell.count
                        let w = 1 / (1 + d2)
                        z += m * w
                        let mw2 = m * w * w
                        fx += mw2 * dx
                        fy += mw2 * dy
                    } else {
                        for c in 0..<Int32(4) { stack[top] = cell.firstChild + c; top += 1 }
                    }
                }
            }
        }
        return (fx, fy, z)
    }

    /// The tree as it is built: square cells, sums of positions, and each leaf's one position.
    private struct Builder {
        struct Cell {
            var centreX: Double, centreY: Double, half: Double
            var sumX = 0.0, sumY = 0.0
            var count = 0
            var firstChild: Int32 = -1
            var pointX = 0.0, pointY = 0.0
        }
        var cells: [Cell] = []

        init(points y: UnsafeBufferPointer<Double>, count: Int) {
            var x0 = Double.infinity, x1 = -Double.infinity, y0 = Double.infinity, y1 = -Double.infinity
            for i in 0..<count {
                x0 = min(x0, y[2 * i]); x1 = max(x1, y[2 * i])
                y0 = min(y0, y[2 * i + 1]); y1 = max(y1, y[2 * i + 1])
            }
            if count == 0 { (x0, x1, y0, y1) = (0, 0, 0, 0) }
            let half = max(max(x1 - x0, y1 - y0) / 2 * (1 + 1e-6), 1e-12)
            cells.reserveCapacity(4 * count + 1)
            cells.append(Cell(centreX: (x0 + x1) / 2, centreY: (y0 + y1) / 2, half: half))
        }

        mutating func insert(x: Double, y: Double) {
            var n = 0, depth = 0
            while true {
                cells[n].sumX += x; cells[n].sumY += y; cells[n].count += 1
                if cells[n].firstChild >= 0 {
                    n = child(of: n, x: x, y: y); depth += 1
                    continue
                }
                if cells[n].count == 1 { cells[n].pointX = x; cells[n].pointY = y; return }
                if (cells[n].pointX == x && cells[n].pointY == y) || depth >= QuadTree.maxDepth { return }
                split(n)
                // The new point is counted in n; go on into its quadrant, where it is not yet counted.
                n = child(of: n, x: x, y: y); depth += 1
            }
        }

        /// Turns leaf n into four children and moves its points (all at one position) into theirs.
        private mutating func split(_ n: Int) {
            let c = cells[n], quarter = c.half / 2
            cells[n].firstChild = Int32(cells.count)
            for q in 0..<4 {
                cells.append(Cell(centreX: c.centreX + (q & 1 == 0 ? -quarter : quarter), centreY: c.centreY + (q & 2 == 0 ? -quarter : quarter), half: quarter))
            }
            let moved = c.count - 1, target = child(of: n, x: c.pointX, y: c.pointY)
            cells[target].sumX = c.pointX * Double(moved); cells[target].sumY = c.pointY * Double(moved)
            cells[target].count = moved
            cells[target].pointX = c.pointX; cells[target].pointY = c.pointY
        }

        private func child(of n: Int, x: Double, y: Double) -> Int {
            let c = cells[n]
            return Int(c.firstChild) + (x < c.centreX ? 0 : 1) + (y < c.centreY ? 0 : 2)
        }
    }
}
