import Foundation
import VAECore
import VAERuntime

/// Builds a vaert weights file from a PyTorch state dict (safetensors) and a description of the
/// architecture: given as JSON, or inferred from the tensor names. A state dict holds no activations, so
/// only the course's `fc1`..`fc5` VAE, whose activations are the course's, is inferred whole; an
/// `nn.Sequential` of Linear layers (taken as a decoder) needs its activations stated.
///
/// Layouts are converted: Linear `[out, in]` is transposed to vaert's `[in, out]`; Conv2d
/// `[out, in, kH, kW]` and ConvTranspose2d `[in, out, kH, kW]` keep PyTorch's layout.
public enum PyTorchImport {
    /// The JSON description: `{"kind", "likelihood", "image": [C, H, W], "latent", "classes", "encoder": [...], "decoder": [...]}`;
    /// each step is `{"type": "linear" | "conv2d" | "conv_transpose2d", "name", "activation", "stride", "padding", "output_padding"}`,
    /// `{"type": "heads", "mu", "logvar"}` (two Linear layers giving μ and log σ²), `{"type": "unflatten", "shape": [C, H, W]}`,
    /// or `{"type": "batchnorm", "name", "eps", "activation"}`: a BatchNorm1d/2d (its `weight`, `bias`,
    /// `running_mean`, `running_var`; eps 1e-5 unless given) after a linear or convolution step with no
    /// activation, folded into it, whose activation then becomes the batchnorm step's.
    /// An activation is named as `Activation.names`; leaky_relu takes `negative_slope` (0.01), elu `alpha` (1).
    public struct Description: Codable {
        public struct Step: Codable {
            public var type: String
            public var name: String?
            public var activation: String?
            public var negative_slope: Float?
            public var alpha: Float?
            public var eps: Float?
            public var stride: Int?
            public var padding: Int?
            public var output_padding: Int?
            public var mu: String?
            public var logvar: String?
            public var shape: [Int]?
        }
        public var kind: String
        public var likelihood: String?
        public var image: [Int]
        public var latent: Int
        public var classes: Int?
        public var encoder: [Step]?
        public var decoder: [Step]
    }

    public static func description(fromJSON path: String) throws(VaertError) -> Description {
        let data = try FileIO.withContents(of: path) { Data($0) }
        do {
            return try JSONDecoder().decode(Description.self, from: data)
        } catch {
            throw VaertError(.malformed, "\(path): not a valid architecture description (\(error))")
        }
    }

    /// Infers the description from tensor names and shapes; `image` defaults to a square single-channel image.
    /// `activations` (one name per layer) is required for an `nn.Sequential` and refused for the course's
    /// layout: an importer that guessed them would decode other pixels than PyTorch without a word.
    public static func inferDescription(_ st: SafeTensors, image: Shape3?, activations: [String]? = nil) throws(VaertError) -> Description {
        func shape(_ name: String) -> [Int]? { st.tensors[name]?.shape }
        func squareImage(_ pixels: Int) throws(VaertError) -> [Int] {
            if let image {
                guard image.count == pixels else { throw VaertError(.invalidArgument, "--image \(image) has \(image.count) pixels, the model \(pixels)") }
                return [image.channels, image.height, image.width]
            }
            let side = Int(Double(pixels).squareRoot().rounded())
            guard side * side == pixels else { throw VaertError(.invalidArgument, "\(st.path): \(pixels) pixels are not a square image: give --image CxHxW") }
            return [1, side, side]
        }
        if let fc1 = shape("fc1.weight"), let fc2 = shape("fc2.weight"), shape("fc3.weight") != nil, shape("fc4.weight") != nil,
           let fc5 = shape("fc5.weight"), fc1.count == 2, fc2.count == 2, fc5.count == 2 {
            if activations != nil {
                throw VaertError(.invalidArgument, "\(st.path): the course's fc1..fc5 VAE has its own activations (ReLU, sigmoid out); describe another network with --arch FILE.json")
            }
            typealias S = Description.Step
            return Description(
                kind: "vae", likelihood: "bernoulli", image: try squareImage(fc1[1]), latent: fc2[0], classes: nil,
                encoder: [S(type: "linear", name: "fc1", activation: "relu"), S(type: "heads", mu: "fc2", logvar: "fc3")],
                decoder: [S(type: "linear", name: "fc4", activation: "relu"), S(type: "linear", name: "fc5", activation: "sigmoid")])
        }
        // nn.Sequential of Linear layers: "<prefix>N.weight" with N increasing, all 2-d.
        let weights = st.tensors.keys.filter { $0.hasSuffix(".weight") }
        let prefixes = Set(weights.map { name -> String in
            let stem = String(name.dropLast(".weight".count))
            return stem.split(separator: ".").dropLast().joined(separator: ".")
        })
        if prefixes.count == 1, let prefix = prefixes.first, ["", "decoder", "model", "net"].contains(prefix) {
            let indexed = weights.compactMap { name -> (Int, String)? in
                let stem = String(name.dropLast(".weight".count))
                return stem.split(separator: ".", omittingEmptySubsequences: false).last.flatMap { Int($0) }.map { ($0, stem) }
            }.sorted { $0.0 < $1.0 }
            if indexed.count == weights.count, !indexed.isEmpty, indexed.allSatisfy({ shape($0.1 + ".weight")?.count == 2 }) {
                let names = indexed.map(\.1).joined(separator: ", ")
                guard let activations else {
                    let example = (0..<indexed.count).map { $0 == indexed.count - 1 ? "sigmoid" : "relu" }.joined(separator: ",")
                    throw VaertError(.invalidArgument, "\(st.path): an nn.Sequential of \(indexed.count) Linear layers (\(names)); a safetensors file holds no activations, so state one per layer, e.g. --activations \(example) (\(Activation.names.joined(separator: ", "))), or describe the network with --arch FILE.json")
                }
                guard activations.count == indexed.count else {
                    throw VaertError(.invalidArgument, "--activations gives \(activations.count) activations; \(st.path) has \(indexed.count) Linear layers (\(names))")
                }
                let steps = zip(indexed, activations).map { entry, activation in Description.Step(type: "linear", name: entry.1, activation: activation) }
                let first = shape(indexed.first!.1 + ".weight")!, last = shape(indexed.last!.1 + ".weight")!
                return Description(kind: "vae", likelihood: "bernoulli", image: try squareImage(last[0]), latent: first[1], classes: nil,
                                   encoder: nil, decoder: steps)
            }
        }
        throw VaertError(.invalidArgument, "\(st.path): cannot infer the architecture from the tensor names (\(weights.sorted().prefix(8).joined(separator: ", "))); give --arch FILE.json")
    }

    /// The weights file for `description` over the tensors of `st`, all f32 (re-encode with `Export`).
    public static func build(_ st: SafeTensors, _ d: Description) throws(VaertError) -> WeightsFileBuilder {
        guard let kind = ModelKind(rawValue: d.kind) else { throw VaertError(.invalidArgument, "unknown kind '\(d.kind)'") }
        // Every number is checked against the weights format's limits before it is used in arithmetic.
        func checked(_ s: Shape3, _ what: String) throws(VaertError) -> Shape3 {
            guard s.isWithinFormatLimits else {
                throw VaertError(.invalidArgument, "\(what): shape \(s) is empty or too large (at most 2^24 channels, 65536 rows and columns, 2^28 values)")
            }
            return s
        }
        func shape(_ dims: [Int]?, _ what: String) throws(VaertError) -> Shape3 {
            guard let dims, dims.count == 3 else { throw VaertError(.invalidArgument, "\(what) must be [C, H, W], got \(dims ?? [])") }
            return try checked(Shape3(channels: dims[0], height: dims[1], width: dims[2]), what)
        }
        let image = try shape(d.image, "image")
        let classes = d.classes ?? 0
        guard (1...65536).contains(d.latent), (0...65536).contains(classes) else {
            throw VaertError(.invalidArgument, "latent must be 1 to 65536 and classes 0 to 65536, got \(d.latent) and \(classes)")
        }
        var b = WeightsFileBuilder()
        var stackShape = Shape3.vector(0)
        func activation(_ name: String?, _ step: Description.Step? = nil) throws(VaertError) -> Activation {
            let parameter = name == "leaky_relu" ? step?.negative_slope : name == "elu" ? step?.alpha : nil
            guard let a = Activation(name: name ?? "identity", parameter: parameter), a.parameter?.isFinite ?? true else {
                throw VaertError(.invalidArgument, "unknown activation '\(name ?? "")' (\(Activation.names.joined(separator: ", ")))")
            }
            return a
        }
        /// Folds the batchnorm step `bn` into the layer before it: each weight w_i of output channel
        /// c = channelOf(i) becomes w_i · s_c and each bias b_c becomes (b_c − μ_c) · s_c + β_c, with
        /// s_c = γ_c / √(σ²_c + eps), in double precision.
        func fold(_ bn: Description.Step, channels: Int, weight: inout [Float], bias: inout [Float], channelOf: (Int) -> Int) throws(VaertError) {
            guard let name = bn.name else { throw VaertError(.invalidArgument, "a batchnorm step needs a name") }
            let eps = bn.eps ?? 1e-5
            guard eps.isFinite, eps >= 0 else { throw VaertError(.invalidArgument, "batchnorm '\(name)': eps must be finite and not negative") }
            var parts: [[Float]] = []
            for part in ["weight", "bias", "running_mean", "running_var"] {
                let t = try st.tensor("\(name).\(part)")
                guard t.values.count == channels else {
                    throw VaertError(.malformed, "\(st.path): tensor '\(name).\(part)' has \(t.values.count) values; the layer before has \(channels) channels")
                }
                parts.append(t.values)
            }
            let (gamma, beta, mean, variance) = (parts[0], parts[1], parts[2], parts[3])
            guard variance.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw VaertError(.malformed, "\(st.path): '\(name).running_var' has a negative or non-finite value") }
            let scale = (0..<channels).map { Double(gamma[$0]) / (Double(variance[$0]) + Double(eps)).squareRoot() }
            for i in weight.indices { weight[i] = Float(Double(weight[i]) * scale[channelOf(i)]) }
            for c in 0..<channels { bias[c] = Float((Double(bias[c]) - Double(mean[c])) * scale[c] + Double(beta[c])) }
        }
        func add(_ stack: StackRole, _ steps: [Description.Step], from start: Shape3) throws(VaertError) {
            stackShape = start
            var index = 0
            var position = 0
            while position < steps.count {
                let step = steps[position]
                position += 1
                let prefix = "\(stack == .encoder ? "encoder" : "decoder").\(index)"
                // A batchnorm step right after this one folds into it and gives its activation.
                var batchnorm: Description.Step? = nil
                if position < steps.count, steps[position].type == "batchnorm" {
                    guard ["linear", "conv2d", "conv_transpose2d"].contains(step.type), (step.activation ?? "identity") == "identity" else {
                        throw VaertError(.invalidArgument, "\(prefix): a batchnorm step must follow a linear or convolution step with no activation")
                    }
                    batchnorm = steps[position]
                    position += 1
                }
                let layerActivation = try activation(batchnorm?.activation ?? step.activation, batchnorm ?? step)
                switch step.type {
                case "batchnorm":
                    throw VaertError(.invalidArgument, "\(prefix): a batchnorm step must follow a linear or convolution step")
                case "unflatten":
                    let s = try shape(step.shape, "\(prefix): unflatten shape")
                    guard s.count == stackShape.count else {
                        throw VaertError(.invalidArgument, "unflatten to \(s) does not fit \(stackShape.count) values")
                    }
                    stackShape = s
                    continue
                case "linear", "heads":
                    var weight: [Float], bias: [Float], outputs: Int
                    if step.type == "heads" {
                        guard let mu = step.mu, let logvar = step.logvar else { throw VaertError(.invalidArgument, "a heads step needs mu and logvar") }
                        let (wm, bm, om) = try linear(st, mu, inputs: stackShape.count)
                        let (wl, bl, ol) = try linear(st, logvar, inputs: stackShape.count)
                        guard om == ol else { throw VaertError(.malformed, "\(st.path): heads '\(mu)' and '\(logvar)' have \(om) and \(ol) outputs") }
                        outputs = om + ol
                        // Concatenate along outputs: row i of [in, out] is μ's row then log σ²'s row.
                        weight = []
                        for i in 0..<stackShape.count {
                            weight.append(contentsOf: wm[(i * om)..<((i + 1) * om)])
                            weight.append(contentsOf: wl[(i * ol)..<((i + 1) * ol)])
                        }
                        bias = bm + bl
                    } else {
                        guard let name = step.name else { throw VaertError(.invalidArgument, "a linear step needs a name") }
                        (weight, bias, outputs) = try linear(st, name, inputs: stackShape.count)
                    }
                    _ = try checked(.vector(outputs), "\(prefix)")
                    if let batchnorm {
                        try fold(batchnorm, channels: outputs, weight: &weight, bias: &bias) { $0 % outputs }  // [in, out]: column = feature
                    }
                    let w = b.addTensor("\(prefix).weight", dims: [stackShape.count, outputs], values: weight)
                    let bi = b.addTensor("\(prefix).bias", dims: [outputs], values: bias)
                    b.addLayer(LayerRecord(kind: .dense, stack: stack, activation: layerActivation, weight: w, bias: bi,
                                           input: stackShape, output: .vector(outputs)))
                    stackShape = .vector(outputs)
                case "conv2d", "conv_transpose2d":
                    guard let name = step.name else { throw VaertError(.invalidArgument, "a \(step.type) step needs a name") }
                    let t = try st.tensor("\(name).weight")
                    guard t.shape.count == 4 else { throw VaertError(.malformed, "\(st.path): tensor '\(name).weight' has shape \(t.shape), expected 4-d") }
                    let transposed = step.type == "conv_transpose2d"
                    let (inC, outC) = transposed ? (t.shape[0], t.shape[1]) : (t.shape[1], t.shape[0])
                    guard inC == stackShape.channels else {
                        throw VaertError(.malformed, "\(st.path): tensor '\(name).weight' takes \(inC) channels, the input is \(stackShape) (add an unflatten step?)")
                    }
                    let p = ConvParameters(kernelHeight: t.shape[2], kernelWidth: t.shape[3], stride: step.stride ?? 1, padding: step.padding ?? 0,
                                           outputPadding: step.output_padding ?? 0)
                    guard p.isWithinFormatLimits else {
                        throw VaertError(.invalidArgument, "\(prefix) '\(name)': kernel \(p.kernelHeight)x\(p.kernelWidth), stride \(p.stride), padding \(p.padding), output padding \(p.outputPadding): kernel and stride must be 1 to 64, padding below the kernel, output padding below the stride")
                    }
                    var output: Shape3
                    if transposed {
                        output = Shape3(channels: outC, height: p.transposedOutput(stackShape.height, kernel: p.kernelHeight),
                                        width: p.transposedOutput(stackShape.width, kernel: p.kernelWidth))
                    } else {
                        guard let h = p.convolutionOutput(stackShape.height, kernel: p.kernelHeight), let w = p.convolutionOutput(stackShape.width, kernel: p.kernelWidth) else {
                            throw VaertError(.malformed, "\(st.path): '\(name)' kernel does not fit \(stackShape)")
                        }
                        output = Shape3(channels: outC, height: h, width: w)
                    }
                    output = try checked(output, "\(prefix) '\(name)' output")
                    var bias = st.tensors["\(name).bias"] != nil ? try st.tensor("\(name).bias").values : [Float](repeating: 0, count: outC)
                    guard bias.count == outC else { throw VaertError(.malformed, "\(st.path): tensor '\(name).bias' has \(bias.count) values, expected \(outC)") }
                    var weight = t.values
                    if let batchnorm {
                        // Conv2d [out, in, kH, kW]: channel = index / (in·kH·kW); ConvTranspose2d [in, out, kH, kW]: (index / (kH·kW)) % out.
                        let window = t.shape[2] * t.shape[3], perOutput = t.shape[1] * window
                        try fold(batchnorm, channels: outC, weight: &weight, bias: &bias) { transposed ? ($0 / window) % outC : $0 / perOutput }
                    }
                    let w = b.addTensor("\(prefix).weight", dims: t.shape, values: weight)
                    let bi = b.addTensor("\(prefix).bias", dims: [outC], values: bias)
                    b.addLayer(LayerRecord(kind: transposed ? .convTranspose2d : .conv2d, stack: stack, activation: layerActivation,
                                           weight: w, bias: bi, input: stackShape, output: output, parameters: p))
                    stackShape = output
                default:
                    throw VaertError(.invalidArgument, "unknown step type '\(step.type)'")
                }
                index += 1
            }
        }
        if let encoder = d.encoder {
            try add(.encoder, encoder, from: image.count + classes == image.count ? image : .vector(image.count + classes))
        }
        try add(.decoder, d.decoder, from: .vector(d.latent + classes))
        b.setMetadata(MetadataKey.kind, .string(kind.rawValue))
        b.setMetadata(MetadataKey.likelihood, .string(d.likelihood ?? "bernoulli"))
        b.setMetadata(MetadataKey.latentDim, .u32(UInt32(d.latent)))
        b.setMetadata(MetadataKey.channels, .u32(UInt32(image.channels)))
        b.setMetadata(MetadataKey.height, .u32(UInt32(image.height)))
        b.setMetadata(MetadataKey.width, .u32(UInt32(image.width)))
        if classes > 0 { b.setMetadata(MetadataKey.classCount, .u32(UInt32(classes))) }
        // A Tanh output gives images in [-1, 1], as the RGB collections train them.
        if d.decoder.last(where: { $0.type != "unflatten" })?.activation == "tanh" { b.setMetadata(MetadataKey.imageRange, .string("[-1, 1]")) }
        b.setMetadata("vaert.source", .string("pytorch: \(URL(fileURLWithPath: st.path).lastPathComponent)"))
        return b
    }

    /// A Linear layer `name` ([out, in] weight, [out] bias) transposed to [in, out].
    static func linear(_ st: SafeTensors, _ name: String, inputs: Int) throws(VaertError) -> ([Float], [Float], Int) {
        let w = try st.tensor("\(name).weight")
        guard w.shape.count == 2 else { throw VaertError(.malformed, "\(st.path): tensor '\(name).weight' has shape \(w.shape), a Linear weight is 2-d") }
        let (outputs, k) = (w.shape[0], w.shape[1])
        guard k == inputs else { throw VaertError(.malformed, "\(st.path): tensor '\(name).weight' takes \(k) inputs, the layer before gives \(inputs)") }
        let bias = st.tensors["\(name).bias"] != nil ? try st.tensor("\(name).bias").values : [Float](repeating: 0, count: outputs)
        guard bias.count == outputs else { throw VaertError(.malformed, "\(st.path): tensor '\(name).bias' has \(bias.count) values, expected \(outputs)") }
        var t = [Float](repeating: 0, count: k * outputs)
        for o in 0..<outputs { for i in 0..<k { t[i * outputs + o] = w.values[o * k + i] } }
        return (t, bias, outputs)
    }
}
