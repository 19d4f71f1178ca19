import VAECore

/// Lowers an ONNX graph from torch.onnx.export to the steps of `PyTorchImport.Description`, so that both
/// import paths share one builder (layouts, batchnorm folding, limits). The graph must be a chain from its
/// one input: Gemm, MatMul (+ Add), Conv and ConvTranspose become layers; BatchNormalization folds into the
/// layer before; Relu, LeakyRelu, Sigmoid, Tanh, Elu and Sigmoid + Mul (SiLU) become that layer's
/// activation; Reshape, Flatten, Unsqueeze, Squeeze, Identity and Dropout change only the shape. Constant
/// subgraphs (the legacy exporter's Shape / Gather / Unsqueeze / Concat chains for `view`) are folded.
public enum ONNXImport {
    public enum Role: String { case encoder, decoder }

    /// One graph, lowered: its steps over `tensors` (PyTorch layouts, named `n<node>.weight` etc.), the
    /// per-image dims of its input and output, and for an encoder the latent size.
    public struct Lowered {
        public var role: Role
        public var steps: [PyTorchImport.Description.Step] = []
        public var tensors: [String: SafeTensors.Tensor] = [:]
        public var input: [Int]
        public var output: [Int] = []
        public var latent = 0
    }

    /// The symbolic batch dimension in folded shape tensors.
    static let batch = Int64.min

    /// The number of values of `dims`, nil when one is not positive or there are more than 2^28 (the format's limit).
    static func product<C: Collection>(_ dims: C) -> Int? where C.Element == Int {
        var n = 1
        for d in dims {
            guard d > 0, d <= ONNXModel.maximumValues else { return nil }
            n *= d
            guard n <= ONNXModel.maximumValues else { return nil }
        }
        return n
    }

    public static func lower(_ m: ONNXModel, as requested: Role?) throws(VaertError) -> Lowered {
        let path = m.path
        guard m.inputs.count == 1, let input = m.inputs.first else {
            throw VaertError(.unsupported, "\(path): the graph has \(m.inputs.count) inputs (\(m.inputs.map(\.name).joined(separator: ", "))); vaert imports a graph of one input, a latent vector (a decoder) or an image (an encoder); conditional models are not imported")
        }
        guard input.dims.count == 2 || input.dims.count == 4, input.dims.dropFirst().allSatisfy({ $0 != nil }) else {
            throw VaertError(.unsupported, "\(path): input '\(input.name)' has dims \(input.dims.map { $0.map(String.init) ?? "?" }); vaert imports [batch, latent] or [batch, C, H, W] inputs of fixed size")
        }
        guard product(input.dims.dropFirst().map { $0! }) != nil else {
            throw VaertError(.unsupported, "\(path): input '\(input.name)' of dims \(input.dims.map { $0.map(String.init) ?? "?" }) is empty or holds more than 2^28 values per image")
        }
        guard (1...2).contains(m.outputs.count) else {
            throw VaertError(.unsupported, "\(path): the graph has \(m.outputs.count) outputs; a decoder has one (the image), an encoder one or two (μ and log σ²)")
        }
        let role = requested ?? (input.dims.count == 4 || m.outputs.count == 2 ? .encoder : .decoder)
        var g = Walk(model: m, role: role, input: input.dims.dropFirst().map { $0! })
        g.shapes[input.name] = [input.dims[0].map(Int64.init) ?? batch] + input.dims.dropFirst().map { Int64($0!) }
        g.current = input.name
        try g.run()
        return g.lowered
    }

    /// The walk along the chain: `current` is the one tensor that carries the data.
    struct Walk {
        let model: ONNXModel
        var lowered: Lowered
        var constants: [String: ONNXModel.Tensor]
        var shapes: [String: [Int64]] = [:]
        var done: Set<Int> = []
        var current = ""
        var dims: [Int]
        let outputs: [String]
        /// The nodes reading each tensor, and the nodes constant folding may evaluate, found once.
        let consumers: [String: [Int]]
        let foldable: [Int]
        static let foldableOps: Set<String> = ["Shape", "Constant", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Identity", "Reshape"]

        init(model: ONNXModel, role: Role, input: [Int]) {
            self.model = model
            lowered = Lowered(role: role, input: input)
            constants = model.initializers
            dims = input
            outputs = model.outputs.map(\.name)
            var consumers: [String: [Int]] = [:]
            for (i, node) in model.nodes.enumerated() {
                for name in Set(node.inputs) where !name.isEmpty { consumers[name, default: []].append(i) }
            }
            self.consumers = consumers
            foldable = model.nodes.indices.filter { Self.foldableOps.contains(model.nodes[$0].op) && !model.nodes[$0].outputs.isEmpty }
        }

        func users(of name: String) -> [Int] { (consumers[name] ?? []).filter { !done.contains($0) } }

        var path: String { model.path }

        mutating func run() throws(VaertError) {
            while true {
                try foldConstants()
                let users = users(of: current)
                if outputs.contains(current) {
                    guard users.isEmpty, outputs.count == 1 else {
                        throw VaertError(.unsupported, "\(path): output '\(current)' is also used inside the graph; vaert imports a chain")
                    }
                    return try finish()
                }
                guard let first = users.first else {
                    throw VaertError(.unsupported, "\(path): tensor '\(current)' is used by no node and is not an output")
                }
                let node = model.nodes[first]
                if users.count == 1 {
                    if node.op == "Split", Set(node.outputs) == Set(outputs), node.outputs.count == 2 {
                        // torch.chunk(h, 2, dim=1): the layer before gives μ and log σ² side by side.
                        done.insert(first)
                        return try finish()
                    }
                    try step(first)
                } else if users.count == 2, node.op == "Sigmoid", model.nodes[users[1]].op == "Mul",
                          Set(model.nodes[users[1]].inputs) == [current, node.outputs[0]] {
                    try activate("silu", node)
                    done.formUnion(users)
                    current = model.nodes[users[1]].outputs[0]
                } else if users.count == 2, lowered.role == .encoder, outputs.count == 2 {
                    return try heads(users)
                } else {
                    throw VaertError(.unsupported, "\(path): tensor '\(current)' feeds \(users.count) nodes (\(users.map { model.nodes[$0].label }.joined(separator: ", "))); vaert imports a chain of layers (an encoder may end in two heads)")
                }
            }
        }

        func refuse(_ node: ONNXModel.Node, _ what: String) -> VaertError {
            VaertError(.unsupported, "\(path): \(node.label): \(what)")
        }

        func int(_ node: ONNXModel.Node, _ name: String, _ otherwise: Int64) -> Int64 { node.attributes[name]?.int ?? otherwise }
        func float(_ node: ONNXModel.Node, _ name: String, _ otherwise: Float) -> Float { node.attributes[name]?.float ?? otherwise }

        func constant(_ node: ONNXModel.Node, _ i: Int, _ what: String) throws(VaertError) -> ONNXModel.Tensor {
            guard i < node.inputs.count, let t = constants[node.inputs[i]] else {
                throw refuse(node, "its \(what) must be a constant (an initializer), not computed in the graph")
            }
            return t
        }

        /// The optional input `i` as a constant, nil when absent.
        func optional(_ node: ONNXModel.Node, _ i: Int, _ what: String) throws(VaertError) -> ONNXModel.Tensor? {
            i < node.inputs.count && !node.inputs[i].isEmpty ? try constant(node, i, what) : nil
        }

        mutating func step(_ index: Int) throws(VaertError) {
            let node = model.nodes[index]
            done.insert(index)
            guard node.domain.isEmpty || node.domain == "ai.onnx" else { throw refuse(node, "domain '\(node.domain)' is not ONNX's own") }
            guard node.inputs.first == current else {
                throw refuse(node, "the data must be its first input")
            }
            let name = "n\(index)"
            switch node.op {
            case "Gemm":
                guard int(node, "transA", 0) == 0 else { throw refuse(node, "transA = 1 is not supported (the data must be A)") }
                try linear(node, name, weight: try constant(node, 1, "B"), transposed: int(node, "transB", 0) == 1,
                           alpha: float(node, "alpha", 1), bias: try optional(node, 2, "C"), beta: float(node, "beta", 1))
            case "MatMul":
                // MatMul then an Add of a constant (its only user): a Linear layer with a bias.
                let product = node.outputs[0]
                let users = consumers[product] ?? []
                let add = users.count == 1 && model.nodes[users[0]].op == "Add" ? users[0] : nil
                let bias = add.flatMap { model.nodes[$0].inputs.first { $0 != product } }.flatMap { constants[$0] }
                try linear(node, name, weight: try constant(node, 1, "B"), transposed: false, alpha: 1, bias: bias, beta: 1)
                if let add, bias != nil {
                    done.insert(add)
                    current = model.nodes[add].outputs[0]
                    shapes[current] = [batchDim] + dims.map(Int64.init)
                    return
                }
            case "Conv", "ConvTranspose":
                try convolution(node, name)
            case "BatchNormalization":
                guard node.outputs.count == 1 || node.outputs.dropFirst().allSatisfy(\.isEmpty), int(node, "training_mode", 0) == 0 else {
                    throw refuse(node, "training mode is not supported: export the model in eval() mode")
                }
                let channels = dims.first ?? 0
                for (i, part) in ["weight", "bias", "running_mean", "running_var"].enumerated() {
                    let t = try constant(node, i + 1, part)
                    guard t.isFloat, t.count == channels else { throw refuse(node, "\(part) has \(t.count) values for \(channels) channels") }
                    lowered.tensors["\(name).\(part)"] = SafeTensors.Tensor(shape: [channels], values: t.floats)
                }
                guard let last = lowered.steps.last, ["linear", "conv2d", "conv_transpose2d"].contains(last.type), last.activation == nil else {
                    throw refuse(node, "a BatchNormalization must follow a Gemm, MatMul, Conv or ConvTranspose directly")
                }
                var s = PyTorchImport.Description.Step(type: "batchnorm", name: name)
                s.eps = float(node, "epsilon", 1e-5)
                lowered.steps.append(s)
            case "Relu": try activate("relu", node)
            case "Sigmoid": try activate("sigmoid", node)
            case "Tanh": try activate("tanh", node)
            case "LeakyRelu": try activate("leaky_relu", node, parameter: float(node, "alpha", 0.01))
            case "Elu": try activate("elu", node, parameter: float(node, "alpha", 1))
            case "Identity", "Dropout":
                break
            case "Reshape", "Flatten", "Unsqueeze", "Squeeze":
                try reshape(node)
            case "Resize", "Upsample":
                throw refuse(node, "upsampling is not supported (vaert has no upsampling layer): use ConvTranspose2d, e.g. kernel 4, stride 2, padding 1")
            default:
                throw refuse(node, "op not supported; vaert imports Gemm, MatMul + Add, Conv, ConvTranspose, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, Elu, SiLU (Sigmoid + Mul), Reshape, Flatten, Unsqueeze, Squeeze, Identity, Dropout and constant shape arithmetic")
            }
            guard ONNXImport.product(dims) != nil else { throw refuse(node, "its output \(dims) is empty or holds more than 2^28 values per image") }
            current = node.outputs[0]
            shapes[current] = [batchDim] + dims.map(Int64.init)
        }

        var batchDim: Int64 { shapes[model.inputs[0].name]?[0] ?? ONNXImport.batch }

        mutating func linear(_ node: ONNXModel.Node, _ name: String, weight w: ONNXModel.Tensor, transposed: Bool,
                             alpha: Float, bias: ONNXModel.Tensor?, beta: Float) throws(VaertError) {
            guard dims.count == 1 else { throw refuse(node, "its input is \(dims), not a vector (flatten it first)") }
            guard w.isFloat, w.dims.count == 2 else { throw refuse(node, "the weight has dims \(w.dims), not a float matrix") }
            // PyTorch's Linear layout [out, in]: B with transB = 1; B [in, out] is transposed.
            let (outputs, inputs) = transposed ? (w.dims[0], w.dims[1]) : (w.dims[1], w.dims[0])
            guard inputs == dims[0] else { throw refuse(node, "the weight takes \(inputs) inputs, the data has \(dims[0])") }
            var values = [Float](repeating: 0, count: outputs * inputs)
            for o in 0..<outputs {
                for i in 0..<inputs { values[o * inputs + i] = alpha * (transposed ? w.floats[o * inputs + i] : w.floats[i * outputs + o]) }
            }
            lowered.tensors["\(name).weight"] = SafeTensors.Tensor(shape: [outputs, inputs], values: values)
            if let bias {
                guard bias.isFloat, bias.count == outputs else { throw refuse(node, "the bias has dims \(bias.dims) for \(outputs) outputs (a broadcast bias is not supported)") }
                lowered.tensors["\(name).bias"] = SafeTensors.Tensor(shape: [outputs], values: bias.floats.map { beta * $0 })
            }
            lowered.steps.append(PyTorchImport.Description.Step(type: "linear", name: name))
            dims = [outputs]
        }

        mutating func convolution(_ node: ONNXModel.Node, _ name: String) throws(VaertError) {
            let transposed = node.op == "ConvTranspose"
            guard dims.count == 3 else { throw refuse(node, "its input is \(dims), not an image [C, H, W]") }
            let w = try constant(node, 1, "weight")
            guard w.isFloat, w.dims.count == 4 else { throw refuse(node, "the weight has dims \(w.dims); vaert imports 2-d convolutions") }
            guard int(node, "group", 1) == 1 else { throw refuse(node, "group \(int(node, "group", 1)) is not supported (group 1 only)") }
            let autoPad = node.attributes["auto_pad"]?.string ?? "NOTSET"
            guard autoPad == "NOTSET" || autoPad == "VALID" else { throw refuse(node, "auto_pad \(autoPad) is not supported (give explicit pads)") }
            let strides = node.attributes["strides"]?.ints ?? [1, 1], pads = node.attributes["pads"]?.ints ?? [0, 0, 0, 0]
            let dilations = node.attributes["dilations"]?.ints ?? [1, 1], outputPadding = node.attributes["output_padding"]?.ints ?? [0, 0]
            guard dilations.allSatisfy({ $0 == 1 }) else { throw refuse(node, "dilations \(dilations) are not supported (1 only)") }
            guard strides.count == 2, strides[0] == strides[1] else { throw refuse(node, "strides \(strides): vaert needs the same stride on both axes") }
            guard pads.count == 4, Set(pads).count == 1 else { throw refuse(node, "pads \(pads): vaert needs the same padding on every side") }
            guard outputPadding.count == 2, outputPadding[0] == outputPadding[1] else {
                throw refuse(node, "output_padding \(outputPadding): vaert needs the same on both axes")
            }
            guard node.attributes["output_shape"] == nil else { throw refuse(node, "output_shape is not supported (give pads and output_padding)") }
            if let k = node.attributes["kernel_shape"]?.ints, k.map(Int.init) != Array(w.dims[2...]) {
                throw refuse(node, "kernel_shape \(k) differs from the weight's \(w.dims)")
            }
            let (inC, outC) = transposed ? (w.dims[0], w.dims[1]) : (w.dims[1], w.dims[0])
            guard inC == dims[0] else { throw refuse(node, "the weight takes \(inC) channels, the input has \(dims[0])") }
            let p = ConvParameters(kernelHeight: w.dims[2], kernelWidth: w.dims[3], stride: Int(clamping: strides[0]), padding: Int(clamping: pads[0]),
                                   outputPadding: Int(clamping: outputPadding[0]))
            guard p.isWithinFormatLimits else {
                throw refuse(node, "kernel \(p.kernelHeight)x\(p.kernelWidth), stride \(p.stride), padding \(p.padding), output padding \(p.outputPadding) are outside vaert's limits (kernel and stride 1 to 64, padding below the kernel, output padding below the stride)")
            }
            if transposed {
                dims = [outC, p.transposedOutput(dims[1], kernel: p.kernelHeight), p.transposedOutput(dims[2], kernel: p.kernelWidth)]
            } else {
                guard let h = p.convolutionOutput(dims[1], kernel: p.kernelHeight), let wd = p.convolutionOutput(dims[2], kernel: p.kernelWidth) else {
                    throw refuse(node, "the kernel does not fit the input \(dims)")
                }
                dims = [outC, h, wd]
            }
            lowered.tensors["\(name).weight"] = SafeTensors.Tensor(shape: w.dims, values: w.floats)
            if let b = try optional(node, 2, "bias") {
                guard b.isFloat, b.count == outC else { throw refuse(node, "the bias has dims \(b.dims) for \(outC) channels") }
                lowered.tensors["\(name).bias"] = SafeTensors.Tensor(shape: [outC], values: b.floats)
            }
            var s = PyTorchImport.Description.Step(type: transposed ? "conv_transpose2d" : "conv2d", name: name)
            (s.stride, s.padding, s.output_padding) = (p.stride, p.padding, p.outputPadding)
            lowered.steps.append(s)
        }

        mutating func activate(_ activation: String, _ node: ONNXModel.Node, parameter: Float? = nil) throws(VaertError) {
            guard var last = lowered.steps.last, last.type != "unflatten", last.activation == nil else {
                throw refuse(node, "an activation must follow a layer (Gemm, MatMul, Conv, ConvTranspose or BatchNormalization) that has none")
            }
            last.activation = activation
            if activation == "leaky_relu" { last.negative_slope = parameter }
            if activation == "elu" { last.alpha = parameter }
            lowered.steps[lowered.steps.count - 1] = last
        }

        /// Reshape, Flatten, Unsqueeze, Squeeze of the data: the batch stays first, the rest is an image or a vector.
        mutating func reshape(_ node: ONNXModel.Node) throws(VaertError) {
            let count = ONNXImport.product(dims) ?? 0
            var target: [Int]
            switch node.op {
            case "Flatten":
                guard int(node, "axis", 1) == 1 else { throw refuse(node, "axis \(int(node, "axis", 1)): only axis 1 (keep the batch) is supported") }
                target = [count]
            case "Reshape":
                let shape = try constant(node, 1, "shape")
                guard !shape.isFloat, shape.dims.count == 1, (2...4).contains(shape.ints.count) else {
                    throw refuse(node, "shape \(shape.ints): vaert needs [batch, N] or [batch, C, H, W]")
                }
                let first = shape.ints[0]
                guard first == ONNXImport.batch || first == -1 || first == 0 || first == batchDim else {
                    throw refuse(node, "shape \(shape.ints) changes the batch dimension")
                }
                var rest = [Int]()
                for (i, v) in shape.ints.dropFirst().enumerated() {
                    if v == 0, int(node, "allowzero", 0) == 0 {
                        guard i + 1 < dims.count + 1, i < dims.count else { throw refuse(node, "shape \(shape.ints) copies a dim the input lacks") }
                        rest.append(dims[i])
                    } else if v == -1 {
                        rest.append(-1)
                    } else {
                        guard v > 0, v <= 1 << 28 else { throw refuse(node, "shape \(shape.ints) is not a shape of \(count) values per image") }
                        rest.append(Int(v))
                    }
                }
                if let hole = rest.firstIndex(of: -1) {
                    guard rest.filter({ $0 == -1 }).count == 1, let known = ONNXImport.product(rest.filter { $0 != -1 }), count % known == 0 else {
                        throw refuse(node, "shape \(shape.ints) does not fit \(count) values per image")
                    }
                    rest[hole] = count / known
                }
                target = rest
            default:
                // Unsqueeze / Squeeze: dims of size 1 added or removed after the batch.
                let axes = try node.inputs.count > 1 ? constant(node, 1, "axes").ints : (node.attributes["axes"]?.ints ?? [])
                guard axes.allSatisfy({ $0 != 0 && $0 != -Int64(dims.count + 1) }) else { throw refuse(node, "axes \(axes) move the batch dimension") }
                target = node.op == "Squeeze" ? dims.filter { $0 != 1 } : dims + Array(repeating: 1, count: axes.count)
            }
            guard ONNXImport.product(target) == count, target.count == 1 || target.count == 3 else {
                throw refuse(node, "the result \(target) is not \(count) values as a vector or an image [C, H, W]")
            }
            if target.count == 3, target != dims {
                var s = PyTorchImport.Description.Step(type: "unflatten")
                s.shape = target
                lowered.steps.append(s)
            }
            dims = target
        }

        /// Two linear heads on `current`, each giving one output: μ (the first output) and log σ².
        mutating func heads(_ nodes: [Int]) throws(VaertError) {
            let before = lowered.steps.count
            var produced: [String: String] = [:]  // graph output -> step name
            let savedDims = dims, savedCurrent = current
            for u in nodes {
                current = savedCurrent
                dims = savedDims
                try step(u)
                var out = current
                // An Identity may rename a head's output.
                while !outputs.contains(out), let id = users(of: out).first(where: { model.nodes[$0].op == "Identity" && model.nodes[$0].inputs == [out] }) {
                    done.insert(id)
                    out = model.nodes[id].outputs[0]
                }
                guard outputs.contains(out), let s = lowered.steps.last, s.type == "linear", s.activation == nil, lowered.steps.count == before + produced.count + 1 else {
                    throw refuse(model.nodes[u], "an encoder's two heads must each be one Gemm or MatMul giving one output")
                }
                produced[out] = s.name
            }
            guard let mu = produced[outputs[0]], let logvar = produced[outputs[1]], dims.count == 1 else {
                throw VaertError(.unsupported, "\(path): the two heads do not give the graph's two outputs")
            }
            lowered.steps.removeLast(2)
            var s = PyTorchImport.Description.Step(type: "heads")
            (s.mu, s.logvar) = (mu, logvar)
            lowered.steps.append(s)
            lowered.latent = dims[0]
            lowered.output = [2 * dims[0]]
        }

        mutating func finish() throws(VaertError) {
            lowered.output = dims
            if lowered.role == .encoder {
                guard dims.count == 1, dims[0] % 2 == 0, lowered.steps.last?.type == "linear" else {
                    throw VaertError(.unsupported, "\(path): an encoder must end in a linear layer giving μ and log σ² (two outputs, or one of 2 × latent values); this one gives \(dims)")
                }
                lowered.latent = dims[0] / 2
            }
        }

        /// Evaluates every node whose inputs are all known constants (or Shape of a tensor whose shape is known).
        mutating func foldConstants() throws(VaertError) {
            var changed = true
            while changed {
                changed = false
                for i in foldable where !done.contains(i) {
                    let node = model.nodes[i]
                    if node.op == "Shape", let s = shapes[node.inputs.first ?? ""] {
                        guard node.attributes["start"] == nil && node.attributes["end"] == nil else { throw refuse(node, "start and end are not supported") }
                        constants[node.outputs[0]] = ONNXModel.Tensor(dims: [s.count], ints: s, isFloat: false)
                    } else if node.op != "Shape", node.inputs.allSatisfy({ $0.isEmpty || constants[$0] != nil }) {
                        constants[node.outputs[0]] = try evaluate(node)
                    } else {
                        continue
                    }
                    done.insert(i)
                    changed = true
                }
            }
        }

        /// A constant node's value: integer shape arithmetic, or a float constant passed through.
        func evaluate(_ node: ONNXModel.Node) throws(VaertError) -> ONNXModel.Tensor {
            func input(_ i: Int) throws(VaertError) -> ONNXModel.Tensor {
                guard i < node.inputs.count, let t = constants[node.inputs[i]] else { throw refuse(node, "input \(i) is missing") }
                return t
            }
            switch node.op {
            case "Constant":
                if let t = node.attributes["value"]?.tensor { return t }
                if let v = node.attributes["value_ints"]?.ints, node.attributes["value_ints"] != nil { return ONNXModel.Tensor(dims: [v.count], ints: v, isFloat: false) }
                if let v = node.attributes["value_int"]?.int { return ONNXModel.Tensor(dims: [], ints: [v], isFloat: false) }
                if let v = node.attributes["value_float"]?.float { return ONNXModel.Tensor(dims: [], floats: [v], isFloat: true) }
                throw refuse(node, "a Constant without a tensor, int or float value")
            case "Identity", "Cast":
                return try input(0)
            case "Reshape":
                let (t, shape) = (try input(0), try input(1).ints)
                guard shape.allSatisfy({ $0 > 0 && $0 <= 1 << 28 }), ONNXImport.product(shape.map { Int($0) }) == t.count else {
                    throw refuse(node, "a constant reshaped to \(shape)")
                }
                var r = t
                r.dims = shape.map { Int($0) }
                return r
            case "Gather":
                let (t, index) = (try input(0), try input(1))
                guard !t.isFloat, !index.isFloat, index.dims.count <= 1, t.dims.count == 1, int(node, "axis", 0) == 0 else { throw refuse(node, "only gathering from a 1-d shape is supported") }
                let picked = try index.ints.map { (i) throws(VaertError) -> Int64 in
                    let j = i < 0 ? i + Int64(t.count) : i
                    guard j >= 0, j < Int64(t.count) else { throw refuse(node, "index \(i) is outside \(t.count) values") }
                    return t.ints[Int(j)]
                }
                return ONNXModel.Tensor(dims: index.dims, ints: picked, isFloat: false)
            case "Unsqueeze", "Squeeze":
                let t = try input(0)
                guard t.count <= 1 << 16 else { throw refuse(node, "a constant of \(t.count) values") }
                return ONNXModel.Tensor(dims: node.op == "Unsqueeze" ? (t.dims.isEmpty ? [1] : [1] + t.dims) : t.dims.filter { $0 != 1 },
                                        floats: t.floats, ints: t.ints, isFloat: t.isFloat)
            default:  // Concat of 1-d integer tensors
                let parts = try node.inputs.indices.map { (i) throws(VaertError) in try input(i) }
                guard parts.allSatisfy({ !$0.isFloat && $0.dims.count == 1 }) else { throw refuse(node, "only concatenating 1-d integer tensors is supported") }
                let ints = parts.flatMap(\.ints)
                guard ints.count <= 64 else { throw refuse(node, "a concatenated shape of \(ints.count) values") }
                return ONNXModel.Tensor(dims: [ints.count], ints: ints, isFloat: false)
            }
        }
    }

    /// The description and tensors of one file from the lowered encoder and decoder graphs (no decoder:
    /// an encoder-only file).
    public static func description(encoder: Lowered?, decoder: Lowered?, image: Shape3?, path: String) throws(VaertError) -> (PyTorchImport.Description, SafeTensors) {
        let latent: Int
        var imageDims: [Int]
        if let decoder {
            guard decoder.input.count == 1 else {
                throw VaertError(.unsupported, "\(path): the decoder's input is \(decoder.input); vaert's decoders take a latent vector [batch, latent]")
            }
            (latent, imageDims) = (decoder.input[0], decoder.output)
        } else {
            guard let encoder else { throw VaertError(.invalidArgument, "no graph to import") }
            (latent, imageDims) = (encoder.latent, encoder.input)
        }
        if imageDims.count == 1 {
            if let image {
                guard image.count == imageDims[0] else { throw VaertError(.invalidArgument, "--image \(image) has \(image.count) pixels, the model \(imageDims[0])") }
                imageDims = [image.channels, image.height, image.width]
            } else if let encoder, encoder.input.count == 3 {
                imageDims = encoder.input
            } else {
                let side = Int(Double(imageDims[0]).squareRoot().rounded())
                guard side * side == imageDims[0] else { throw VaertError(.invalidArgument, "\(path): \(imageDims[0]) pixels are not a square image: give --image CxHxW") }
                imageDims = [1, side, side]
            }
        }
        var tensors = decoder?.tensors ?? [:]
        var encoderSteps: [PyTorchImport.Description.Step]?
        if let encoder {
            guard encoder.latent == latent else {
                throw VaertError(.invalidArgument, "the encoder gives a latent of \(encoder.latent), the decoder takes \(latent)")
            }
            guard encoder.input.reduce(1, *) == imageDims.reduce(1, *), encoder.input.count == 1 || encoder.input == imageDims else {
                throw VaertError(.invalidArgument, "the encoder takes images \(encoder.input), the decoder gives \(imageDims)")
            }
            // Both graphs name their tensors n<node>: the encoder's become e<node>.
            func renamed(_ name: String?) -> String? { name.map { "e" + $0.dropFirst() } }
            for (k, v) in encoder.tensors { tensors["e" + k.dropFirst()] = v }
            encoderSteps = encoder.steps.map { s in
                var s = s
                (s.name, s.mu, s.logvar) = (renamed(s.name), renamed(s.mu), renamed(s.logvar))
                return s
            }
        }
        let sigmoidOut = decoder?.steps.last?.activation == "sigmoid"
        let d = PyTorchImport.Description(kind: "vae", likelihood: sigmoidOut ? "bernoulli" : "gaussian", image: imageDims, latent: latent,
                                          classes: nil, encoder: encoderSteps, decoder: decoder?.steps ?? [])
        return (d, SafeTensors(path: path, tensors: tensors))
    }
}
