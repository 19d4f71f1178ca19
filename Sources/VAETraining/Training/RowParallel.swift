import Dispatch
import _VaertCPU

/// Runs work over rows split into contiguous runs across threads: the one way the trainer parallelises
/// its loops. Runs are disjoint, so a body may write its own rows without locks, and a row's result
/// does not depend on how the rows were split. Every run computes in the caller's floating-point mode
/// (`FloatMode`), so the caller's choice about denormals holds on the pool's threads too.
enum RowParallel {
    /// Calls `body(worker, rows)` once per run of `0 ..< count`, at most `workers` runs, each a whole
    /// number of `granule` rows but the last; on the calling thread when there is one run.
    static func forEachRun(count: Int, workers: Int, granule: Int = 1, _ body: (_ worker: Int, _ rows: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let granules = (count + granule - 1) / granule
        let runs = max(1, min(workers, granules))
        let perRun = (granules + runs - 1) / runs * granule
        if runs == 1 { return body(0, 0..<count) }
        let mode = vaert_cpu_float_mode()
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: runs) { worker in
                let start = worker * perRun
                guard start < count else { return }
                FloatMode.with(mode) { body(worker, start..<min(count, start + perRun)) }
            }
        }
    }
}

/// The thread's floating-point control register, set for a scope and restored after.
public enum FloatMode {
    /// Runs `body` with the calling thread's mode set to `mode`.
    public static func with<T, E: Error>(_ mode: UInt, _ body: () throws(E) -> T) throws(E) -> T {
        let saved = vaert_cpu_float_mode()
        if saved == mode { return try body() }
        vaert_cpu_set_float_mode(mode)
        defer { vaert_cpu_set_float_mode(saved) }
        return try body()
    }

    /// Runs `body` with denormal results and operands flushed to zero, as TensorFlow's trainers do: the
    /// gradients of saturated pixels (σ(x) − 0 for x far below 0) reach 1e-39 and less, and each multiply
    /// of such a denormal took a microcode assist. Measured (Xeon 6/167, course VAE, 2 threads): epochs
    /// 3.1, 4.6, 6.5 s without, 3.8, 3.8, 3.8 s with, the same test ELBO to 0.01 nats.
    public static func flushingDenormals<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try with(vaert_cpu_flushing_denormals(vaert_cpu_float_mode()), body)
    }
}
