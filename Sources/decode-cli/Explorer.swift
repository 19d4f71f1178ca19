import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

/// `decode-cli explorer`: one HTML file that runs the model in the browser through libvaert's wasm32
/// build. The page (Explorer/: explorer.html, .css, libvaert.js and explorer.js) gets the module, a
/// decoder-only copy of the model and the test images of its latent map as one JSON block, so it opens
/// from disk with no server.
struct ExplorerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explorer",
        abstract: "Write a self-contained HTML page that decodes the model live in the browser (libvaert compiled to wasm32).",
        discussion: """
            The page shows the decoded image under one slider per latent dimension, random samples (vaert_sample_latent's \
            seed and index, so seed S gives decode-cli sample --seed S's first image), a 2-d traversal grid, A-to-B \
            interpolation between test images, and a latent map of test images coloured by class (hover to decode). \
            It needs the wasm32 build of libvaert: tools/build-embedded.sh wasm (or --wasm FILE).
            """)

    @OptionGroup var source: ModelAndTestData
    @Option(help: "Output HTML file.")
    var out: String
    @Option(help: "Storage type of the page's decoder-only copy of the model: int8 (smallest; as fast as f32 in wasm32), f32 (exact), or f16 (converted at every call in wasm32: about 6x slower).")
    var dtype = Export.DType.int8
    @Option(help: "Test images on the latent map (their real images are in the page too).")
    var points = 1000
    @Option(help: "Projection of the map for a latent of more than 2 dimensions: pca or tsne.")
    var method = ProjectionMethod.tsne
    @Option(help: "libvaert's wasm32 module (default: vaert.wasm of tools/build-embedded.sh wasm in this package's .build).")
    var wasm: String?
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        if let problem = OutputPath.problem(out, option: "--out", format: "HTML", extensions: ["html", "htm"]) { throw ValidationError(problem) }
        guard (2...5000).contains(points) else { throw ValidationError("--points must be 2 to 5000, got \(points)") }
    }

    func run() throws {
        try reportingErrors {
            try threading.apply()
            let module = try FileIO.withContents(of: try wasmPath()) { Array($0) }
            let model = try source.model()
            guard !model.encoder.isEmpty else { fail("\(source.weights) holds only a decoder; the latent map needs the encoder") }
            var page = try ExplorerPage(model: model, decoderCopy: try decoderCopy(), dtype: dtype, wasm: module)
            let test = try source.testImages(for: model, limit: points)
            try page.addMap(test, method: method, threads: threading.threads, classNames: classNames(model, count: max(model.classCount, Int(test.labels.max() ?? 0) + 1)))
            let html = try page.html(title: (source.weights as NSString).lastPathComponent)
            try FileIO.writeAtomically(Array(html.utf8), to: out)
            print("wrote \(out): \(html.utf8.count.formatted()) bytes (model \(dtype.rawValue) decoder \(page.modelBytes.formatted()), wasm \(module.count.formatted()), \(test.count) map points)")
        }
    }

    /// The decoder (and a VQ-VAE's codebook and prior) in `dtype`: all the page runs.
    func decoderCopy() throws -> [UInt8] {
        try FileIO.withContents(of: source.weights) { (raw) throws(VaertError) -> [UInt8] in
            let file = try WeightsFile.parse(raw)
            return try Export.rebuild(file, bytes: raw, part: .decoder, dtype: dtype).serialize()
        }
    }

    /// --wasm, else vaert.wasm of tools/build-embedded.sh in the .build folder that holds this program.
    func wasmPath() throws -> String {
        if let wasm { return wasm }
        let built = "embedded/wasm32-unknown-none-wasm/vaert.wasm"
        let program = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var folder = program.resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent(built).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        fail("no wasm32 build of libvaert beside this program's .build folder; run tools/build-embedded.sh wasm, or give --wasm FILE")
    }
}

extension Export.DType: ExpressibleByArgument {}
