import VAECore
import _VaertSupport

/// An encode or decode call split across the worker pool (`vaert_set_threads`): the batch is cut into
/// one chunk per thread (whole GEMM tiles each), and each chunk runs in passes of at most
/// `Model.rowsPerPass` rows in its own part of the calling thread's scratch. Rows are independent, so the
/// results do not depend on the thread count.
///
/// Plain data on the caller's stack, run by the C pool through a context pointer: a Swift closure handed
/// to C would need a heap-allocated context, and a call allocates nothing after the first.
struct ChunkedCall {
    enum Operation {
        case encode
        case decode
    }

    let operation: Operation
    unowned(unsafe) let model: Model
    let input: UnsafePointer<Float>
    let labels: UnsafePointer<Int32>?
    /// Pixels for decode, μ for encode.
    let output: UnsafeMutablePointer<Float>
    let logVariance: UnsafeMutablePointer<Float>?
    let batch: Int
    let chunkRows: Int
    let passRows: Int
    let scratchPerChunk: Int
    let scratch: UnsafeMutablePointer<Float>

    static func run(_ operation: Operation, on model: Model, input: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, batch: Int,
                    output: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>?) throws(VaertError) {
        let tiles = (batch + Gemm.tileRows - 1) / Gemm.tileRows
        let chunks = min(vaert_support_threads(), tiles)
        let chunkRows = (tiles + chunks - 1) / chunks * Gemm.tileRows
        let passRows = min(chunkRows, Model.rowsPerPass)
        let floats = operation == .encode ? model.encodeScratchFloats(rows: passRows) : model.decodeScratchFloats(rows: passRows)
        let perChunk = (floats + 15) / 16 * 16  // whole cache lines, so chunks share none
        try withScratch(slot: .inner, floats: chunks * perChunk) { scratch in
            var call = ChunkedCall(operation: operation, model: model, input: input, labels: labels, output: output, logVariance: logVariance,
                                   batch: batch, chunkRows: chunkRows, passRows: passRows, scratchPerChunk: perChunk, scratch: scratch)
            if chunks == 1 { return call.run(chunk: 0) }
            withUnsafeMutablePointer(to: &call) { context in
                vaert_support_parallel_for(chunks, { context, chunk in
                    context!.assumingMemoryBound(to: ChunkedCall.self).pointee.run(chunk: chunk)
                }, context)
            }
        }
    }

    /// The whole batch on the calling thread, in `scratch` (the layer scratch of one pass of at most
    /// `Model.rowsPerPass` rows).
    static func onCallingThread(_ operation: Operation, on model: Model, input: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, batch: Int,
                                output: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        ChunkedCall(operation: operation, model: model, input: input, labels: labels, output: output, logVariance: logVariance, batch: batch,
                    chunkRows: batch, passRows: min(batch, Model.rowsPerPass), scratchPerChunk: 0, scratch: scratch).run(chunk: 0)
    }

    func run(chunk: Int) {
        let end = min(batch, (chunk + 1) * chunkRows)
        let chunkScratch = scratch + chunk * scratchPerChunk
        var first = chunk * chunkRows
        while first < end {
            let rows = min(passRows, end - first)
            switch operation {
            case .encode:
                model.encodePass(input, labels: labels, first: first, rows: rows, mu: output, logVariance: logVariance, scratch: chunkScratch)
            case .decode:
                model.decodePass(input, labels: labels, first: first, rows: rows, pixels: output, scratch: chunkScratch)
            }
            first += rows
        }
    }
}
