import VAERuntime

@_cdecl("vae_encode")
public func vae_encode(
    _ handle: OpaquePointer?, _ images: UnsafePointer<Float>?, _ batch: Int, _ mu: UnsafeMutablePointer<Float>?,
    _ logvar: UnsafeMutablePointer<Float>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.encode(try required(images, "images"), batch: batch, mu: try required(mu, "mu"), logVariance: logvar)
    }
}

@_cdecl("vae_decode")
public func vae_decode(_ handle: OpaquePointer?, _ z: UnsafePointer<Float>?, _ batch: Int, _ pixels: UnsafeMutablePointer<Float>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.decode(try required(z, "z"), batch: batch, pixels: try required(pixels, "pixels"))
    }
}

@_cdecl("vae_encode_codes")
public func vae_encode_codes(_ handle: OpaquePointer?, _ images: UnsafePointer<Float>?, _ batch: Int, _ codes: UnsafeMutablePointer<Int32>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.encodeCodes(try required(images, "images"), batch: batch, codes: try required(codes, "codes"))
    }
}

@_cdecl("vae_decode_codes")
public func vae_decode_codes(_ handle: OpaquePointer?, _ codes: UnsafePointer<Int32>?, _ batch: Int, _ pixels: UnsafeMutablePointer<Float>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.decodeCodes(try required(codes, "codes"), batch: batch, pixels: try required(pixels, "pixels"))
    }
}

@_cdecl("vaert_sample_codes")
public func vaert_sample_codes(_ handle: OpaquePointer?, _ seed: UInt64, _ first: UInt64, _ count: Int, _ codes: UnsafeMutablePointer<Int32>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.sampleCodes(seed: seed, first: first, count: count, codes: try required(codes, "codes"))
    }
}

@_cdecl("vaert_sample_latent")
public func vaert_sample_latent(_ handle: OpaquePointer?, _ seed: UInt64, _ first: UInt64, _ count: Int, _ z: UnsafeMutablePointer<Float>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.sampleLatents(seed: seed, first: first, count: count, into: try required(z, "z"))
    }
}

@_cdecl("vaert_sample")
public func vaert_sample(_ handle: OpaquePointer?, _ seed: UInt64, _ first: UInt64, _ count: Int, _ pixels: UnsafeMutablePointer<Float>?) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.sample(seed: seed, first: first, count: count, pixels: try required(pixels, "pixels"))
    }
}

@_cdecl("vaert_write_jpeg")
public func vaert_write_jpeg(
    _ path: UnsafePointer<CChar>?, _ pixels: UnsafePointer<Float>?, _ channels: Int, _ height: Int, _ width: Int, _ quality: Int32
) -> Int32 {
    cEntry { () throws(VaertError) in
        let path = String(cString: try required(path, "path"))
        let pixels = try required(pixels, "pixels")
        guard channels > 0, height > 0, width > 0 else { throw VaertError(.invalidArgument, "image size \(channels)x\(height)x\(width) has a zero or huge side") }
        try JPEG.write(pixels, shape: Shape3(channels: channels, height: height, width: width), quality: Int(quality), to: path)
    }
}

@_cdecl("vae_encode_conditional")
public func vae_encode_conditional(
    _ handle: OpaquePointer?, _ images: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ batch: Int,
    _ mu: UnsafeMutablePointer<Float>?, _ logvar: UnsafeMutablePointer<Float>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.encode(try required(images, "images"), labels: try required(labels, "labels"), batch: batch, mu: try required(mu, "mu"), logVariance: logvar)
    }
}

@_cdecl("vae_decode_conditional")
public func vae_decode_conditional(
    _ handle: OpaquePointer?, _ z: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ batch: Int, _ pixels: UnsafeMutablePointer<Float>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.decode(try required(z, "z"), labels: try required(labels, "labels"), batch: batch, pixels: try required(pixels, "pixels"))
    }
}

@_cdecl("vaert_sample_conditional")
public func vaert_sample_conditional(
    _ handle: OpaquePointer?, _ seed: UInt64, _ first: UInt64, _ count: Int, _ labels: UnsafePointer<Int32>?, _ pixels: UnsafeMutablePointer<Float>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.sample(seed: seed, first: first, count: count, labels: try required(labels, "labels"), pixels: try required(pixels, "pixels"))
    }
}

@_cdecl("vaert_anomaly_score")
public func vaert_anomaly_score(
    _ handle: OpaquePointer?, _ images: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ batch: Int, _ scores: UnsafeMutablePointer<Float>?
) -> Int32 {
    cEntry { () throws(VaertError) in
        let m = try model(handle)
        try m.anomalyScores(try required(images, "images"), labels: labels, batch: batch, scores: try required(scores, "scores"))
    }
}

@_cdecl("vaert_set_threads")
public func vaert_set_threads(_ threads: Int) -> Int32 {
    cEntry { () throws(VaertError) in try WorkerPool.resize(to: threads) }
}

@_cdecl("vaert_get_threads")
public func vaert_get_threads() -> Int { WorkerPool.threads }

@_cdecl("vaert_kernels")
public func vaert_kernels() -> UnsafePointer<CChar> {
    let name: StaticString
    switch Kernels.active {
    case .avx512: name = "avx512"
    case .avx2: name = "avx2"
    case .baseline: name = "baseline"
    }
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}
