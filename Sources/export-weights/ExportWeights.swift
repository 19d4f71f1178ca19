import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

@main
struct ExportWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-weights",
        abstract: "Freeze, quantize and embed vaert models; import PyTorch weights; inspect and verify weights files.",
        subcommands: [Convert.self, Inspect.self, Verify.self],
        defaultSubcommand: Convert.self)
}

func fail(_ message: String) -> Never { CommandErrors.fail("export-weights", message) }

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "INPUT (a vaert checkpoint or weights file, a PyTorch .safetensors state dict, or an ONNX graph) -> a weights file (the default command).")

    @Argument(help: "A .vaert / .ckpt file from vae-train, a .safetensors file, or a .onnx file from torch.onnx.export (a decoder).")
    var input: String?
    @Option(help: "ONNX import: the encoder's graph (image in, μ and log σ² out), with --decoder.")
    var encoder: String?
    @Option(help: "ONNX import: the decoder's graph (latent vector in, image out).")
    var decoder: String?
    @Option(help: "Output weights file.")
    var out: String
    @Option(help: "Storage type of the weights: f32, f16 or int8 (per-output-channel scales; decoder layers chosen output-aware, calibrated on samples of the prior; layers under 2^14 weights stay f16).")
    var dtype = "f32"
    @Flag(help: "With --dtype int8: small layers' weights as int8 too (less exact: 0.027 max pixel error on the course VAE, against 0.017 for --dtype int8).")
    var int8Everywhere = false
    @Flag(help: "Keep only the decoder (a device that only generates needs no encoder).")
    var decoderOnly = false
    @Flag(help: "Keep only the encoder (for tools; libvaert needs a decoder).")
    var encoderOnly = false
    @Option(help: "Also write NAME.h and NAME.c beside --out: the file as an aligned C array for firmware.")
    var cArray: String?
    @Option(help: "PyTorch import: JSON description of the architecture (not needed for the course's fc1..fc5 VAE).")
    var arch: String?
    @Option(help: "PyTorch import of an nn.Sequential of Linear layers: one activation per layer, comma separated (identity, relu, sigmoid, leaky_relu, tanh, elu, silu; leaky_relu with slope 0.01 and elu with alpha 1, as PyTorch's defaults).")
    var activations: String?
    @Option(help: "PyTorch import: image shape CxHxW when it is not a square single-channel image.")
    var image: String?

    func validate() throws {
        guard (input == nil) == (decoder != nil || encoder != nil) else {
            throw ValidationError(input == nil ? "give an input file, or --decoder DEC.onnx (and --encoder ENC.onnx)" : "give an input file or --encoder / --decoder, not both")
        }
        if encoder != nil && decoder == nil && !encoderOnly {
            throw ValidationError("--encoder needs --decoder DEC.onnx too (libvaert decodes), or --encoder-only")
        }
        guard Export.DType(rawValue: dtype) != nil else { throw ValidationError("--dtype must be f32, f16 or int8") }
        guard !int8Everywhere || dtype == "int8" else { throw ValidationError("--int8-everywhere needs --dtype int8") }
        guard !(decoderOnly && encoderOnly) else { throw ValidationError("--decoder-only and --encoder-only exclude each other") }
        if let cArray, cArray.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) == nil {
            throw ValidationError("--c-array needs a C identifier")
        }
        if let image, ShapeOption.tensor(image) == nil { throw ValidationError("--image must be CxHxW, e.g. 1x28x28") }
        if arch != nil && activations != nil { throw ValidationError("--activations is for an nn.Sequential without --arch; put the activations in the JSON") }
    }

    func run() throws {
        try CommandErrors.reporting("export-weights") {
            let input = self.input ?? decoder ?? encoder!
            let ext = URL(fileURLWithPath: input).pathExtension.lowercased()
            if ["pt", "pth", "pkl", "pickle", "bin"].contains(ext) {
                fail("""
                    \(input): refusing a pickle file: loading it can run arbitrary code. Save the state dict as safetensors instead: \
                    `from safetensors.torch import save_file; save_file({k: v.contiguous() for k, v in model.state_dict().items()}, "model.safetensors")`
                    """)
            }
            let bytes: [UInt8]
            if ext == "safetensors" {
                let st = try SafeTensors(path: input)
                let description = try arch.map { (path) throws(VaertError) in try PyTorchImport.description(fromJSON: path) }
                    ?? PyTorchImport.inferDescription(st, image: image.flatMap(ShapeOption.tensor),
                                                      activations: activations.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
                bytes = try PyTorchImport.build(st, description).serialize()
            } else if ext == "onnx" || encoder != nil || decoder != nil {
                bytes = try importONNX(single: self.input)
            } else {
                bytes = try FileIO.withContents(of: input) { Array($0) }
            }
            // Every source goes through the same path: validate, select the part, convert the storage type.
            let part: Export.Part = decoderOnly ? .decoder : (encoderOnly ? .encoder : .all)
            let final = try bytes.withUnsafeBytes { raw in
                Result { () throws(VaertError) in
                    let file: WeightsFile
                    do throws(VaertError) { file = try WeightsFile.parse(raw) } catch { throw VaertError(error.status, "\(input): \(error.message)") }
                    return try Export.rebuild(file, bytes: raw, part: part, dtype: Export.DType(rawValue: dtype)!,
                                              int8Everywhere: int8Everywhere).serialize()
                }
            }.get()
            if part != .encoder {
                // The file must open in the runtime before it is written.
                _ = try final.withUnsafeBytes { raw in Result { () throws(VaertError) in try Model(copying: raw) } }.get()
            }
            try FileIO.writeAtomically(final, to: out)
            var wrote = ["\(out) (\(final.count) bytes, \(dtype), \(part.rawValue))"]
            if let cArray {
                let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
                let (h, c) = Export.cArray(final, name: cArray, header: "\(cArray).h")
                try FileIO.writeAtomically(Array(h.utf8), to: "\(folder)/\(cArray).h")
                try FileIO.writeAtomically(Array(c.utf8), to: "\(folder)/\(cArray).c")
                wrote.append("\(folder)/\(cArray).h and .c")
            }
            print("wrote " + wrote.joined(separator: "; "))
        }
    }
}

extension Convert {
    /// The weights file of ONNX graphs: `single` (a decoder, or an encoder with --encoder-only), or --encoder and --decoder.
    func importONNX(single: String?) throws(VaertError) -> [UInt8] {
        func lowered(_ path: String, _ role: ONNXImport.Role?) throws(VaertError) -> ONNXImport.Lowered {
            try ONNXImport.lower(try ONNXModel(path: path), as: role)
        }
        var encoderGraph = try encoder.map { (path) throws(VaertError) in try lowered(path, .encoder) }
        var decoderGraph = try decoder.map { (path) throws(VaertError) in try lowered(path, .decoder) }
        if let single {
            let graph = try lowered(single, nil)
            if graph.role == .encoder { encoderGraph = graph } else { decoderGraph = graph }
        }
        // An encoder alone makes a file without a decoder, which only --encoder-only asks for.
        if decoderGraph == nil && !encoderOnly {
            throw VaertError(.invalidArgument, "\(single ?? encoder!) is an encoder (image in, μ and log σ² out); libvaert decodes: give --decoder DEC.onnx with --encoder, or --encoder-only")
        }
        let (d, st) = try ONNXImport.description(encoder: encoderGraph, decoder: decoderGraph, image: self.image.flatMap(ShapeOption.tensor),
                                                 path: decoder ?? single ?? encoder!)
        return try PyTorchImport.build(st, d).serialize()
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a weights file's layers, tensors, parameter count, sizes, metadata and checksum.")

    @Argument(help: "A weights file.")
    var file: String

    func run() throws {
        try CommandErrors.reporting("export-weights") {
            try FileIO.withContents(of: file) { (bytes) throws(VaertError) in
                let f: WeightsFile
                do throws(VaertError) { f = try WeightsFile.parse(bytes) } catch { throw VaertError(error.status, "\(file): \(error.message)") }
                let crc = bytes.loadUnaligned(fromByteOffset: HeaderField.crc32, as: UInt32.self)
                print("\(file): vaert weights file version \(WeightsFormat.version), \(bytes.count) bytes, CRC-32 0x\(String(UInt32(littleEndian: crc), radix: 16)) (valid)")
                print("layers:")
                for (i, l) in f.layers.enumerated() {
                    var extra = ""
                    if let p = l.parameters { extra = " kernel \(p.kernelHeight)x\(p.kernelWidth) stride \(p.stride) padding \(p.padding) output_padding \(p.outputPadding)" }
                    if let m = l.mask { extra += " mask \(m == .a ? "A" : "B")" }
                    if l.kind == .codebook { extra = " \(l.codebookSize) codes" }
                    print("  \(i) \(l.stack.name) \(l.kind.name) \(l.input) -> \(l.output) \(l.activation.name)\(l.activation.parameter.map { "(\($0))" } ?? "")\(extra)")
                }
                print("tensors:")
                var parameters = 0
                for t in f.tensors {
                    parameters += t.elementCount
                    print("  \(t.name) \(t.type.name) \(t.dims.map(String.init).joined(separator: "x")) \(t.byteCount) bytes at +\(t.offset)")
                }
                let referenced = Set(f.layers.flatMap { [$0.weight] + ($0.bias.map { [$0] } ?? []) })
                let networkParameters = referenced.map { f.tensors[$0].elementCount }.reduce(0, +)
                print("parameters: \(networkParameters) in the network (\(parameters) values in all tensors)")
                print("metadata:")
                for (k, v) in f.metadata {
                    switch v {
                    case .string(let bytes):
                        let s = bytes.description
                        print("  \(k) = \(s.count > 200 ? String(s.prefix(200)) + "..." : s)")
                    case .u32(let x): print("  \(k) = \(x)")
                    case .f32(let x): print("  \(k) = \(x)")
                    case .f64(let x): print("  \(k) = \(x)")
                    }
                }
            }
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a weights file as the loader does (CRC, every table invariant, the network), decode a batch; non-zero exit on any problem.")

    @Argument(help: "A weights file.")
    var file: String

    func run() throws {
        try CommandErrors.reporting("export-weights") {
            let model = try Model.open(path: file)
            let n = 8
            var z = [Float](repeating: 0, count: n * model.latentDim)
            try model.sampleLatents(seed: 0, first: 0, count: n, into: &z)
            var pixels = [Float](repeating: 0, count: n * model.pixelCount)
            let labels = model.kind.isConditional ? (0..<n).map { Int32($0 % model.classCount) } : nil
            try model.decode(z, labels: labels, batch: n, pixels: &pixels)
            guard pixels.allSatisfy({ $0.isFinite }) else { fail("\(file): decoding gave NaN or infinite pixels") }
            print("\(file): ok (\(model.kind.rawValue), latent \(model.latentDim), images \(model.imageShape), \(n) decodes finite)")
        }
    }
}
