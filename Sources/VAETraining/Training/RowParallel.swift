import Dispatch

/// Runs work over rows split into contiguous runs across threads: the one way the trainer parallelises
/// its loops. Runs are disjoint, so a body may write its own rows without locks, and a row's result
/// does not depend on how the rows were split.
enum RowParallel {
    /// Calls `body(worker, rows)` once per run of `0 ..< count`, at most `workers` runs, each a whole
    /// number of `granule` rows but the last; on the calling thread when there is one run.
    static func forEachRun(count: Int, workers: Int, granule: Int = 1, _ body: (_ worker: Int, _ rows: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let granules = (count + granule - 1) / granule
        let runs = max(1, min(workers, granules))
        let perRun = (granules + runs - 1) / runs * granule
        if runs == 1 { return body(0, 0..<count) }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: runs) { worker in
                let start = worker * perRun
                if start < count { body(worker, start..<min(count, start + perRun)) }
            }
        }
    }
}
