import Foundation
import VAECore
import VAETraining
import VAERuntime

/// The data of an explorer page, as the page's script reads it: the wasm module, the decoder-only
/// model, and the latent map's test images (2-d points, labels, real pixels, and the latents the page
/// decodes: latent means, or for a VQ-VAE its code grids and codebook). Binary arrays are little-endian
/// values, deflated (zlib format, which the page inflates with DecompressionStream) and in base64: a
/// third smaller than base64 alone.
struct ExplorerPage {
    let model: Model
    let modelBytes: Int
    private var data: [String: Any] = [:]

    init(model: Model, decoderCopy: [UInt8], dtype: Export.DType, wasm: [UInt8]) throws {
        // The copy must open in the runtime before a page is made of it.
        _ = try decoderCopy.withUnsafeBytes { raw in Result { () throws(VaertError) in try Model(copying: raw) } }.get()
        self.model = model
        modelBytes = decoderCopy.count
        data["wasm"] = packed(wasm)
        data["model"] = packed(decoderCopy)
        (data["dtype"], data["modelBytes"], data["wasmBytes"]) = (dtype.rawValue, decoderCopy.count, wasm.count)
    }

    /// The latent map: `test`'s images encoded, projected to 2-d (`method` for a latent of more than 2 dimensions).
    mutating func addMap(_ test: Dataset, method: ProjectionMethod, threads: Int, classNames: [String]) throws {
        let (n, d) = (test.count, model.latentDim)
        let images = inModelRange(test.images, model)
        var mu = [Float](repeating: 0, count: n * d)
        try model.encode(images, labels: labelsIfConditional(model, test.labels32), batch: n, mu: &mu, logVariance: nil)
        let (points, projection) = projectLatents(mu, count: n, dim: d, method: method, tsne: TSNE.Options(), threads: threads)
        data["map"] = ["x": points.map { Double($0.x) }, "y": points.map { Double($0.y) }, "labels": test.labels.map(Int.init),
                       "projection": projection, "classNames": classNames] as [String: Any]
        data["images"] = packed(test.images.map { UInt8(($0 * 255).rounded().clamped(0, 255)) })
        if let codebook = model.codebook {
            guard codebook.codes <= 1 << 16 else { fail("the page stores codes in 16 bits; this codebook has \(codebook.codes) codes") }
            var codes = [Int32](repeating: 0, count: n * codebook.positions)
            try model.encodeCodes(images, batch: n, codes: &codes)
            data["codes"] = packed(codes.map { UInt16($0) })
            data["codebook"] = packed(Array(UnsafeBufferPointer(start: codebook.vectors, count: codebook.codes * codebook.dimension)))
        } else {
            data["latents"] = packed(mu)
        }
    }

    /// The page: explorer.html with its style, its script (libvaert.js, the wasm module's C API, then
    /// explorer.js, the controls) and this data put in.
    func html(title: String) throws -> String {
        var page = try resource("explorer.html")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c")  // no "</script>" can end the block early
        for (marker, text) in [("/*vaert:style*/", try resource("explorer.css")), ("/*vaert:script*/", try resource("libvaert.js") + "\n" + resource("explorer.js")),
                               ("/*vaert:data*/", json), ("<!--vaert:title-->", escapeHTML(title))] {
            guard let range = page.range(of: marker) else { fail("explorer.html lacks \(marker)") }
            page.replaceSubrange(range, with: text)
        }
        return page
    }

    private func resource(_ name: String) throws -> String {
        let parts = name.split(separator: ".").map(String.init)
        guard let url = Bundle.module.url(forResource: parts[0], withExtension: parts[1], subdirectory: "Explorer") else {
            fail("the explorer's \(name) is missing from decode-cli's resources")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

private func packed<T>(_ values: [T]) -> String { packed(values.withUnsafeBytes { Array($0) }) }

private func packed(_ bytes: [UInt8]) -> String { Data(Deflate.compress(bytes)).base64EncodedString() }

private func escapeHTML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}

private extension Float {
    func clamped(_ low: Float, _ high: Float) -> Float { Swift.min(Swift.max(self, low), high) }
}
