import VAECore
import _VaertSupport

/// An encode or decode call split across the worker pool (`vaert_set_threads`): the batch is cut into
/// one chunk per thread (whole GEMM tiles each), and each chunk runs in passes of at most
/// `Model.rowsPerPass` rows in its own part of the calling thread's scratch. Rows are independent, so the
/// results do not depend on the thread count. A call in the caller's workspace is one chunk on the
/// calling thread.
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
    /// One pass of a chunk, and its scratch.
    let pass: ScratchPlan.Pass
    let scratch: UnsafeMutablePointer<Float>

    /// Splits the batch across the pool, in the calling thread's inner scratch slot.
    static func run(_ operation: Operation, on model: Model, input: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, batch: Int,
                    output: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>?) throws(VaertError) {
        let tiles = (batch + Kernels.tileRows - 1) / Kernels.tileRows
        let chunks = min(vaert_support_threads(), tiles)
        let chunkRows = (tiles + chunks - 1) / chunks * Kernels.tileRows
        let pass = ScratchPlan(operation == .encode ? .encode : .decode, on: model, batch: chunkRows).pass!
        try withScratch(slot: .inner, floats: chunks * pass.lineFloats) { scratch in
            var call = ChunkedCall(operation: operation, model: model, input: input, labels: labels, output: output, logVariance: logVariance,
                                   batch: batch, chunkRows: chunkRows, pass: pass, scratch: scratch)
            if chunks == 1 { return call.run(chunk: 0) }
            withUnsafeMutablePointer(to: &call) { context in
                vaert_support_parallel_for(chunks, { context, chunk in
                    context!.assumingMemoryBound(to: ChunkedCall.self).pointee.run(chunk: chunk)
                }, context)
            }
        }
    }

    /// The whole batch on the calling thread, in `scratch` (the plan's pass, for the caller's workspace).
    static func onCallingThread(_ operation: Operation, on model: Model, input: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, batch: Int,
                                output: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>?, pass: ScratchPlan.Pass,
                                scratch: UnsafeMutablePointer<Float>) {
        ChunkedCall(operation: operation, model: model, input: input, labels: labels, output: output, logVariance: logVariance, batch: batch,
                    chunkRows: batch, pass: pass, scratch: scratch).run(chunk: 0)
    }

    func run(chunk: Int) {
        let end = min(batch, (chunk + 1) * chunkRows)
        let chunkScratch = scratch + chunk * pass.lineFloats
        var first = chunk * chunkRows
        while first < end {
            let rows = min(pass.rows, end - first)
            switch operation {
            case .encode: encodePass(first: first, rows: rows, scratch: chunkScratch)
            case .decode: decodePass(first: first, rows: rows, scratch: chunkScratch)
            }
            first += rows
        }
    }

    // The passes stay out of line: one copy serves the pool and the workspace calls, and a decode-only
    // device build keeps no encoder code (measured: 0.9 KB more on armv7em when inlined).

    /// Encodes rows `first ..< first + rows` into μ and log σ².
    @inline(never)
    func encodePass(first: Int, rows: Int, scratch: UnsafeMutablePointer<Float>) {
        let (layers, code, joined) = pass.parts(scratch)
        let x = model.joinClasses(input + first * model.pixelCount, width: model.pixelCount, labels: labels.map { $0 + first }, rows: rows, into: joined)
        Model.run(model.encoder, input: x, batch: rows, output: code, scratch: layers)
        model.splitCode(code, batch: rows, mu: output + first * model.latentDim, logVariance: logVariance.map { $0 + first * model.latentDim })
    }

    /// Decodes rows `first ..< first + rows` into pixels.
    @inline(never)
    func decodePass(first: Int, rows: Int, scratch: UnsafeMutablePointer<Float>) {
        let (layers, _, joined) = pass.parts(scratch)
        let z = model.joinClasses(input + first * model.latentDim, width: model.latentDim, labels: labels.map { $0 + first }, rows: rows, into: joined)
        Model.run(model.decoder, input: z, batch: rows, output: output + first * model.pixelCount, scratch: layers)
    }
}

extension Model {
    /// For a conditional model, copies `rows` of `width` values and appends each row's one-hot class into
    /// `joined`; otherwise returns the values as they are.
    func joinClasses(_ values: UnsafePointer<Float>, width: Int, labels: UnsafePointer<Int32>?, rows: Int,
                     into joined: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard classCount > 0, let labels else { return values }
        let stride = width + classCount
        for r in 0..<rows {
            (joined + r * stride).update(from: values + r * width, count: width)
            (joined + r * stride + width).update(repeating: 0, count: classCount)
            joined[r * stride + width + Int(labels[r])] = 1
        }
        return UnsafePointer(joined)
    }
}
