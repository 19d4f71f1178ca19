import VAERuntime

/// A C handle points to a `Model` value: in memory the library allocates (`vaert_open_*`), or at the
/// start of the caller's memory (`vaert_init_static`). The model is immutable, so a handle is shareable
/// across threads.
@inline(__always)
func model(_ handle: OpaquePointer?) throws(VaertError) -> Model {
    UnsafePointer<Model>(try required(handle, "model")).pointee
}

func publish(_ model: Model, to out: UnsafeMutablePointer<OpaquePointer?>) {
    let handle = UnsafeMutablePointer<Model>.allocate(capacity: 1)
    handle.initialize(to: model)
    out.pointee = OpaquePointer(handle)
}

/// `vaert_kind` codes of the header.
extension ModelKind {
    var cCode: Int32 {
        switch self {
        case .vae: return 1
        case .ae: return 2
        case .betaVAE: return 3
        case .convVAE: return 4
        case .convAE: return 5
        case .dae: return 6
        case .sparseAE: return 7
        case .cae: return 8
        case .cvae: return 9
        case .vqVAE: return 10
        }
    }
}

@_cdecl("vaert_open_file")
public func vaert_open_file(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let out = try required(out, "model")
        out.pointee = nil
        publish(try Model.open(path: String(cString: try required(path, "path"))), to: out)
    }
}

@_cdecl("vaert_open_memory")
public func vaert_open_memory(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    openMemory(data, size, out) { (bytes) throws(VaertError) in try Model(copying: bytes) }
}

/// The checks and the hand-over shared by the calls that open a model from memory.
func openMemory(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                _ open: (UnsafeRawBufferPointer) throws(VaertError) -> Model) -> Int32 {
    cEntry { () throws(VaertError) in
        let out = try required(out, "model")
        out.pointee = nil
        publish(try open(try modelBytes(data, size)), to: out)
    }
}

/// The `size` bytes at `data`, a whole weights file, after the checks every call that takes one makes.
func modelBytes(_ data: UnsafeRawPointer?, _ size: Int) throws(VaertError) -> UnsafeRawBufferPointer {
    let data = try required(data, "data")
    guard size >= 0 else { throw VaertError(.invalidArgument, "size is larger than SIZE_MAX/2") }
    return UnsafeRawBufferPointer(start: data, count: size)
}

@_cdecl("vaert_close")
public func vaert_close(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let model = UnsafeMutablePointer<Model>(handle)
    // A model in the caller's memory (vaert_init_static) owns nothing: its memory is the caller's.
    guard model.pointee.ownsMemory else { return }
    model.deinitialize(count: 1)
    model.deallocate()
}

@_cdecl("vaert_get_kind")
public func vaert_get_kind(_ handle: OpaquePointer?, _ kind: UnsafeMutablePointer<Int32>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try required(kind, "kind").pointee = m.kind.cCode
    }
}

@_cdecl("vaert_get_latent_dim")
public func vaert_get_latent_dim(_ handle: OpaquePointer?, _ dim: UnsafeMutablePointer<Int>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try required(dim, "latent_dim").pointee = m.latentDim
    }
}

@_cdecl("vaert_get_image_range")
public func vaert_get_image_range(_ handle: OpaquePointer?, _ low: UnsafeMutablePointer<Float>?, _ high: UnsafeMutablePointer<Float>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        let (l, h) = (try required(low, "low"), try required(high, "high"))
        l.pointee = m.imageRange.low
        h.pointee = m.imageRange.high
    }
}

@_cdecl("vaert_get_image_shape")
public func vaert_get_image_shape(
    _ handle: OpaquePointer?, _ channels: UnsafeMutablePointer<Int>?, _ height: UnsafeMutablePointer<Int>?, _ width: UnsafeMutablePointer<Int>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        let (c, h, w) = (try required(channels, "channels"), try required(height, "height"), try required(width, "width"))
        c.pointee = m.imageShape.channels
        h.pointee = m.imageShape.height
        w.pointee = m.imageShape.width
    }
}

@_cdecl("vaert_has_encoder")
public func vaert_has_encoder(_ handle: OpaquePointer?, _ has: UnsafeMutablePointer<Int32>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try required(has, "has_encoder").pointee = m.hasEncoder ? 1 : 0
    }
}

@_cdecl("vaert_get_codebook")
public func vaert_get_codebook(_ handle: OpaquePointer?, _ codes: UnsafeMutablePointer<Int>?, _ positions: UnsafeMutablePointer<Int>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        let (k, p) = (try required(codes, "codebook_size"), try required(positions, "codes_per_image"))
        k.pointee = m.codebook?.codes ?? 0
        p.pointee = m.codebook?.positions ?? 0
    }
}

@_cdecl("vaert_get_class_count")
public func vaert_get_class_count(_ handle: OpaquePointer?, _ classes: UnsafeMutablePointer<Int>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try required(classes, "classes").pointee = m.classCount
    }
}
