/// Where a model's layer list and its f32 copies of tensors not computed as stored lie in the block of
/// memory it runs from: the encoder's layers, the decoder's, the prior's, then (64-byte aligned) the floats, in
/// layer order (weight, then bias). The same layout serves memory the library allocates and the caller's.
struct ModelLayout {
    let encoderCount: Int
    let decoderCount: Int
    let priorCount: Int
    let widenedFloats: Int

    init(_ file: WeightsFile, inPlace: Bool) {
        var (encoders, decoders, priors, floats) = (0, 0, 0, 0)
        for record in file.layers {
            switch record.stack {
            case .encoder: encoders += 1
            case .decoder: decoders += 1
            case .prior: priors += 1
            }
            let weight = file.tensors[record.weight]
            if weight.type != .f32 && !Model.runsAsStored(record, file, inPlace: inPlace) { floats += weight.elementCount }
            if let bias = record.bias, file.tensors[bias].type != .f32 { floats += file.tensors[bias].elementCount }
        }
        (encoderCount, decoderCount, priorCount, widenedFloats) = (encoders, decoders, priors, floats)
    }

    var layerCount: Int { encoderCount + decoderCount + priorCount }
    var floatsOffset: Int { alignUp(layerCount * MemoryLayout<Layer>.stride, WeightsFormat.alignment) }
    var bytes: Int { floatsOffset + 4 * widenedFloats }
}

/// The memory the library allocates for a model: its copy of the file (unless used in place), the
/// block of `ModelLayout`, and the packed weights. Freed when the last `Model` holding it goes.
final class ModelMemory: @unchecked Sendable {
    /// The model's copy of the file, 64-byte aligned; nil for a model used in place.
    let storage: UnsafeMutableRawPointer?
    private(set) var block: UnsafeMutableRawPointer?
    var packing = WeightPacking()

    init() { storage = nil }

    init(copying bytes: UnsafeRawBufferPointer) {
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: WeightsFormat.alignment)
        if bytes.count > 0 { copy.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        storage = copy
    }

    func allocateBlock(_ bytes: Int) {
        block = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: WeightsFormat.alignment)
    }

    deinit {
        storage?.deallocate()
        block?.deallocate()
        packing.free()
    }
}
