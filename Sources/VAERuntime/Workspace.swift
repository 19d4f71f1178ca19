import VAECore

/// Encode, decode and sample in memory the caller provides (`vaert_workspace_size` and the `_ws`
/// functions of the C API): on the calling thread, with no allocation at all, for devices that own
/// their memory.
extension Model {
    /// The calls that take a workspace. Raw values are the header's `VAERT_OP_*` codes.
    public enum WorkspaceOperation: Int32 {
        case encode = 1
        case decode = 2
        case sample = 3
    }

    /// Bytes of workspace `operation` needs for `batch` rows (`ScratchPlan.workspaceBytes`).
    public func workspaceBytes(_ operation: WorkspaceOperation, batch: Int) throws(VaertError) -> Int {
        try plan(operation, batch: batch).workspaceBytes
    }

    func plan(_ operation: WorkspaceOperation, batch: Int) throws(VaertError) -> ScratchPlan {
        try ScratchPlan.check(batch: batch, rowFloats: widestCallerRow)
        switch operation {
        case .encode:
            guard hasEncoder else { throw VaertError(.unsupported, "this model file holds no encoder") }
            return ScratchPlan(.encode, on: self, batch: batch)
        case .decode: return ScratchPlan(.decode, on: self, batch: batch)
        case .sample: return ScratchPlan(.sample, on: self, batch: batch)
        }
    }

    public func encode(_ images: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, batch: Int, mu: UnsafeMutablePointer<Float>,
                       logVariance: UnsafeMutablePointer<Float>?, workspace: UnsafeMutableRawPointer, workspaceBytes: Int) throws(VaertError) {
        let plan = try plan(.encode, batch: batch)
        let scratch = try workspaceFloats(workspace, bytes: workspaceBytes, plan: plan)
        try checkInputs(images, count: pixelCount, labels: labels, batch: batch, what: "images")
        ChunkedCall.onCallingThread(.encode, on: self, input: images, labels: labels, batch: batch, output: mu, logVariance: logVariance,
                                    pass: plan.pass!, scratch: scratch)
    }

    public func decode(_ z: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, batch: Int, pixels: UnsafeMutablePointer<Float>,
                       workspace: UnsafeMutableRawPointer, workspaceBytes: Int) throws(VaertError) {
        let plan = try plan(.decode, batch: batch)
        let scratch = try workspaceFloats(workspace, bytes: workspaceBytes, plan: plan)
        try checkInputs(z, count: latentDim, labels: labels, batch: batch, what: "latent vectors")
        ChunkedCall.onCallingThread(.decode, on: self, input: z, labels: labels, batch: batch, output: pixels, logVariance: nil,
                                    pass: plan.pass!, scratch: scratch)
    }

    public func sample(seed: UInt64, first: UInt64, count: Int, labels: UnsafePointer<Int32>?, pixels: UnsafeMutablePointer<Float>,
                       workspace: UnsafeMutableRawPointer, workspaceBytes: Int) throws(VaertError) {
        let plan = try plan(.sample, batch: count)
        let scratch = try workspaceFloats(workspace, bytes: workspaceBytes, plan: plan)
        try checkCanSample()
        try checkLabels(labels, batch: count)
        try checkSampleRange(first: first, count: count)
        let rows = plan.rows
        let z = scratch, decodeScratch = scratch + plan.callFloats
        var done = 0
        while done < count {
            let n = min(rows, count - done)
            if hasPrior {  // the prior's passes run in the decode's space, before it
                PriorCall(model: self, seed: seed, first: first + UInt64(done), count: n, codes: nil, vectors: z, workers: 1, scratch: decodeScratch,
                          workerFloats: 0).run(worker: 0)
            } else {
                try sampleLatents(seed: seed, first: first + UInt64(done), count: n, into: z)
            }
            ChunkedCall.onCallingThread(.decode, on: self, input: z, labels: labels.map { $0 + done }, batch: n,
                                        output: pixels + done * pixelCount, logVariance: nil, pass: plan.pass!, scratch: decodeScratch)
            done += n
        }
    }

    /// The workspace as 64-byte aligned floats, after checking it holds the plan's bytes.
    func workspaceFloats(_ workspace: UnsafeMutableRawPointer, bytes: Int, plan: ScratchPlan) throws(VaertError) -> UnsafeMutablePointer<Float> {
        let needed = plan.workspaceBytes
        guard bytes >= needed else {
            throw VaertError(.bufferTooSmall, "the workspace holds \(bytes) bytes; this call needs \(needed) (vaert_workspace_size)")
        }
        let aligned = (Int(bitPattern: workspace) + WeightsFormat.alignment - 1) / WeightsFormat.alignment * WeightsFormat.alignment
        return UnsafeMutableRawPointer(bitPattern: aligned)!.assumingMemoryBound(to: Float.self)
    }
}
