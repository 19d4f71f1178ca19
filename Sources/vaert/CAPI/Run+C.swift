import VAECore

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
