import VAECore
import _VaertSupport

/// The scratch memory a call needs, worked out in one place. The per-thread scratch of a pool call, the
/// caller's workspace (`vaert_workspace_size`) and the batch checks all read it.
///
/// A call runs in passes of at most `Model.rowsPerPass` rows. A pass needs its layers' buffers (two
/// ping-pong buffers of the widest hidden layer and the largest column matrix), for encode the encoder's
/// output rows before they are split into μ and log σ², and for a conditional model the inputs with their
/// one-hot classes joined on. A call may also keep arrays of its own across its passes: sample keeps a
/// pass's latent vectors, anomaly scoring μ, log σ² and the reconstruction.
struct ScratchPlan {
    enum Operation {
        case encode
        case decode
        case sample
        case score
    }

    /// The encode or decode pass a call runs.
    struct Pass {
        let rows: Int
        var layerFloats: Int
        let codeFloats: Int
        let joinedFloats: Int

        init(encoderOf model: Model, rows: Int) {
            self.rows = rows
            layerFloats = Model.scratchFloats(model.encoder, batch: rows)
            codeFloats = rows * model.codeSize
            joinedFloats = model.classCount > 0 ? rows * (model.pixelCount + model.classCount) : 0
        }

        init(decoderOf model: Model, rows: Int) {
            self.rows = rows
            layerFloats = Model.scratchFloats(model.decoder, batch: rows)
            codeFloats = 0
            joinedFloats = model.classCount > 0 ? rows * (model.latentDim + model.classCount) : 0
        }

        var floats: Int { layerFloats + codeFloats + joinedFloats }
        /// `floats` rounded up to whole 64-byte lines, so that passes running side by side share none.
        var lineFloats: Int { (floats + 15) / 16 * 16 }

        /// The parts of a pass's scratch starting at `base`: the layers', the code, the joined inputs.
        func parts(_ base: UnsafeMutablePointer<Float>) -> (layers: UnsafeMutablePointer<Float>, code: UnsafeMutablePointer<Float>,
                                                             joined: UnsafeMutablePointer<Float>) {
            (base, base + layerFloats, base + layerFloats + codeFloats)
        }
    }

    /// Rows of one pass: the batch, up to `Model.rowsPerPass`.
    let rows: Int
    /// Floats of the call's own arrays, kept across its passes.
    let callFloats: Int
    /// The pass the call runs on the calling thread (nil for scoring, which calls encode and decode).
    let pass: Pass?

    /// The plan of `operation` on `model` over `batch` rows (checked: `check(batch:)`).
    init(_ operation: Operation, on model: Model, batch: Int) {
        rows = min(batch, Model.rowsPerPass)
        switch operation {
        case .encode: (callFloats, pass) = (0, Pass(encoderOf: model, rows: rows))
        case .decode: (callFloats, pass) = (0, Pass(decoderOf: model, rows: rows))
        case .sample:
            // A prior's sampling runs in the pass's space before the decode does (`priorPassFloats`).
            var decode = Pass(decoderOf: model, rows: rows)
            if model.hasPrior { decode.layerFloats = max(decode.layerFloats, model.priorPassFloats(rows: min(rows, Model.priorRowsPerPass))) }
            (callFloats, pass) = (rows * model.latentDim, decode)
        case .score: (callFloats, pass) = (2 * rows * model.latentDim + rows * model.pixelCount, nil)
        }
    }

    /// Bytes of a caller's workspace for this plan: the call's arrays and its pass, plus up to 63 bytes to
    /// align the start, so that any pointer with this many bytes behind it will do.
    var workspaceBytes: Int { (callFloats + (pass?.floats ?? 0)) * 4 + WeightsFormat.alignment - 1 }

    /// Refuses a batch of 0, one above `maxBatch`, or one whose largest array (`rowFloats` a row) does
    /// not fit `size_t`.
    static func check(batch: Int, rowFloats: Int) throws(VaertError) {
        guard batch != 0 else { throw VaertError(.invalidArgument, "batch size must be at least 1, got 0") }
        // size_t arrives as Int: SIZE_MAX is -1 here, and is reported as the number the caller passed.
        guard batch > 0, batch <= Model.maxBatch else {
            throw VaertError(.invalidArgument, "batch size \(UInt(bitPattern: batch)) is above VAERT_MAX_BATCH (\(Model.maxBatch))")
        }
        let (bytes, overflow) = batch.multipliedReportingOverflow(by: rowFloats * 4)
        guard !overflow, bytes > 0 else { throw VaertError(.invalidArgument, "batch size \(batch) of \(rowFloats) values per row does not fit size_t") }
    }
}

extension Model {
    /// The largest batch (or sample count) one call takes: `VAERT_MAX_BATCH` in vaert.h. Far above any
    /// real call (a batch job calls in chunks), and low enough that a garbage `size_t` is refused before
    /// any array is read, and that batch × row size fits a 32-bit device's `size_t` for small models.
    public static let maxBatch = 1 << 24

    /// Floats of the encoder's output row: μ and log σ² for a variational model, the code otherwise.
    var codeSize: Int { kind.isVariational ? 2 * latentDim : latentDim }
    /// The widest row of any array a call reads or writes (images, μ and log σ², latent vectors).
    var widestCallerRow: Int { max(pixelCount, 2 * latentDim) }
}

/// The calling thread's two scratch buffers: `outer` for a call's own arrays, `inner` for the encode or
/// decode it makes (sample and anomaly scoring nest one inside the other).
enum ScratchSlot: Int32 {
    case outer = 0
    case inner = 1
}

/// `floats` floats of the calling thread's 64-byte aligned scratch `slot`, kept for the thread's next
/// call (valid until the thread asks for that slot again); allocation failure is reported as a status.
func threadScratch(_ slot: ScratchSlot, floats: Int) throws(VaertError) -> UnsafeMutablePointer<Float> {
    guard let raw = vaert_support_scratch(slot.rawValue, max(floats, 1) * 4) else {
        throw VaertError(.outOfMemory, "could not allocate \(floats * 4) bytes of scratch memory")
    }
    return raw.bindMemory(to: Float.self, capacity: max(floats, 1))
}
