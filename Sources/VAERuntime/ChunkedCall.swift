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
        /// Decode from code vectors, past a VQ-VAE's codebook (they are its vectors already).
        case decodeCodeVectors
    }

    let operation: Operation
    let model: Model
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
        let pass = ScratchPlan(operation == .encode ? .encode : .decode, on: model, batch: chunkRows).pass!  // a whole decoder's pass holds one past its codebook
        var call = ChunkedCall(operation: operation, model: model, input: input, labels: labels, output: output, logVariance: logVariance,
                               batch: batch, chunkRows: chunkRows, pass: pass, scratch: try threadScratch(.inner, floats: chunks * pass.lineFloats))
        if chunks == 1 { return call.run(chunk: 0) }
        withUnsafeMutablePointer(to: &call) { context in
            vaert_support_parallel_for(chunks, { context, chunk in
                context!.assumingMemoryBound(to: ChunkedCall.self).pointee.run(chunk: chunk)
            }, context)
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
        let (layers, code, joined) = pass.parts(scratch + chunk * pass.lineFloats)
        var first = chunk * chunkRows
        while first < end {
            let rows = min(pass.rows, end - first)
            switch operation {
            case .encode:
                model.encodePass(input, labels: labels, first: first, rows: rows, mu: output, logVariance: logVariance, layers: layers, code: code,
                                 joined: joined)
            case .decode, .decodeCodeVectors:
                model.decodePass(input, labels: labels, first: first, rows: rows, pixels: output, layers: layers, joined: joined,
                                 pastCodebook: operation == .decodeCodeVectors)
            }
            first += rows
        }
    }
}

// The passes stay out of line: one copy serves the pool and the workspace calls, and a decode-only
// device build keeps no encoder code.
extension Model {
    /// Encodes rows `first ..< first + rows` of `images` into μ and log σ², in a pass's scratch parts.
    @inline(never)
    func encodePass(_ images: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, first: Int, rows: Int, mu: UnsafeMutablePointer<Float>,
                    logVariance: UnsafeMutablePointer<Float>?, layers: UnsafeMutablePointer<Float>, code: UnsafeMutablePointer<Float>,
                    joined: UnsafeMutablePointer<Float>) {
        let x = joinClasses(images + first * pixelCount, width: pixelCount, labels: labels.map { $0 + first }, rows: rows, into: joined)
        Model.run(encoder, input: x, batch: rows, output: code, scratch: layers)
        splitCode(code, batch: rows, mu: mu + first * latentDim, logVariance: logVariance.map { $0 + first * latentDim })
    }

    /// Decodes rows `first ..< first + rows` of `z` into pixels, in a pass's scratch parts; `pastCodebook`
    /// starts after a VQ-VAE's codebook.
    @inline(never)
    func decodePass(_ z: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, first: Int, rows: Int, pixels: UnsafeMutablePointer<Float>,
                    layers: UnsafeMutablePointer<Float>, joined: UnsafeMutablePointer<Float>, pastCodebook: Bool = false) {
        let input = joinClasses(z + first * latentDim, width: latentDim, labels: labels.map { $0 + first }, rows: rows, into: joined)
        let run = pastCodebook ? UnsafeBufferPointer(rebasing: decoder[1...]) : decoder
        Model.run(run, input: input, batch: rows, output: pixels + first * pixelCount, scratch: layers)
    }

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
