import _VaertSupport

/// The worker pool encode and decode split their batches across (`vaert_set_threads` in the C API).
public enum WorkerPool {
    /// Threads that run a call, the caller's included.
    public static var threads: Int { vaert_support_threads() }

    /// Resizes the pool to `threads` threads (1 to 256), the caller's included.
    public static func resize(to threads: Int) throws(VaertError) {
        guard (1...256).contains(threads) else { throw VaertError(.invalidArgument, "threads must be 1 to 256, got \(threads)") }
        let status = vaert_support_set_threads(threads)
        guard status == 0 else {
            throw VaertError(.outOfMemory, "could not start \(threads - 1) worker threads: \(cString: vaert_support_strerror(status))")
        }
    }
}
