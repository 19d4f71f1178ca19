import VAERuntime

// Caller-owned memory: see "Running in your own memory" in vaert.h.

@_cdecl("vaert_open_memory_in_place")
public func vaert_open_memory_in_place(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    openMemory(data, size, out) { (bytes) throws(VaertError) in try Model(inPlace: bytes) }
}

@_cdecl("vaert_workspace_size")
public func vaert_workspace_size(_ handle: OpaquePointer?, _ op: Int32, _ batch: Int, _ bytes: UnsafeMutablePointer<Int>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        let out = try required(bytes, "bytes")
        guard let operation = Model.WorkspaceOperation(rawValue: op) else { throw VaertError(.invalidArgument, "unknown operation \(op)") }
        out.pointee = try m.workspaceBytes(operation, batch: batch)
    }
}

@_cdecl("vae_encode_ws")
public func vae_encode_ws(
    _ handle: OpaquePointer?, _ images: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ batch: Int, _ mu: UnsafeMutablePointer<Float>?,
    _ logvar: UnsafeMutablePointer<Float>?, _ workspace: UnsafeMutableRawPointer?, _ workspaceSize: Int
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.encode(try required(images, "images"), labels: labels, batch: batch, mu: try required(mu, "mu"), logVariance: logvar,
                     workspace: try required(workspace, "workspace"), workspaceBytes: workspaceSize)
    }
}

@_cdecl("vae_decode_ws")
public func vae_decode_ws(
    _ handle: OpaquePointer?, _ z: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ batch: Int, _ pixels: UnsafeMutablePointer<Float>?,
    _ workspace: UnsafeMutableRawPointer?, _ workspaceSize: Int
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.decode(try required(z, "z"), labels: labels, batch: batch, pixels: try required(pixels, "pixels"),
                     workspace: try required(workspace, "workspace"), workspaceBytes: workspaceSize)
    }
}

@_cdecl("vaert_sample_ws")
public func vaert_sample_ws(
    _ handle: OpaquePointer?, _ seed: UInt64, _ first: UInt64, _ count: Int, _ labels: UnsafePointer<Int32>?, _ pixels: UnsafeMutablePointer<Float>?,
    _ workspace: UnsafeMutableRawPointer?, _ workspaceSize: Int
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.sample(seed: seed, first: first, count: count, labels: labels, pixels: try required(pixels, "pixels"),
                     workspace: try required(workspace, "workspace"), workspaceBytes: workspaceSize)
    }
}

@_cdecl("vaert_model_size")
public func vaert_model_size(_ data: UnsafeRawPointer?, _ size: Int, _ bytes: UnsafeMutablePointer<Int>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let out = try required(bytes, "bytes")
        out.pointee = try Model.staticBytes(inPlace: try modelBytes(data, size))
    }
}

@_cdecl("vaert_init_static")
public func vaert_init_static(
    _ data: UnsafeRawPointer?, _ size: Int, _ memory: UnsafeMutableRawPointer?, _ memorySize: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let out = try required(out, "model")
        out.pointee = nil
        let bytes = try modelBytes(data, size)
        let memory = try required(memory, "memory")
        guard memorySize >= 0 else { throw VaertError(.invalidArgument, "memory_size is larger than SIZE_MAX/2") }
        out.pointee = OpaquePointer(try Model.initialize(inPlace: bytes, in: UnsafeMutableRawBufferPointer(start: memory, count: memorySize)))
    }
}
