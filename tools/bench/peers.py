"""Throughput of ONNX Runtime and PyTorch eager on the encoder or decoder of a vaert weights file (the same
weights: the graphs are built from the file by vaert_file.py, the ONNX one with the onnx package).
Prints img/s per thread count and batch.
Usage: python peers.py MODEL.vaert encode|decode [SECONDS] [BATCH ...]
       python peers.py --int8 MODEL.vaert encode|decode [SECONDS] [BATCH ...]
The second form times ONNX Runtime alone, on the f32 graph and on its dynamic int8 quantization
(onnxruntime.quantization.quantize_dynamic: DynamicQuantizeLinear + MatMulInteger), both through IO
binding on preallocated arrays, so that the Python call costs as little as it can."""
import sys, time
import numpy as np
import vaert_file

int8 = sys.argv[1] == "--int8"
if int8: del sys.argv[1]
stack = {"encode": "encoder", "decode": "decoder"}[sys.argv[2]]
layers = [l for l in vaert_file.read(sys.argv[1]) if l["stack"] == stack]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
batches = [int(b) for b in sys.argv[4:]] or [1, 64, 256]
# The input of the first layer: a vector for a dense layer, an image (C, H, W) for a convolution.
first = layers[0]
input_shape = [first["weight"].shape[0]] if first["kind"] == "dense" else list(first["input"])

def bench(f, z):
    f(z); n = 0; t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        f(z); n += 1
    return n * len(z) / (time.perf_counter() - t)

def onnx_model():
    import onnx
    from onnx import helper, TensorProto, numpy_helper
    nodes, inits, x = [], [], "z"
    for i, l in enumerate(layers):
        w, b = f"w{i}", f"b{i}"
        if l["kind"] == "dense":
            if len(l["input"]) and l["input"][1] * l["input"][2] > 1:  # coming from a feature map: flatten
                nodes.append(helper.make_node("Flatten", [x], [f"f{i}"])); x = f"f{i}"
            inits += [numpy_helper.from_array(l["weight"], w), numpy_helper.from_array(l["bias"], b)]
            nodes.append(helper.make_node("Gemm", [x, w, b], [f"y{i}"]))
        else:
            if i > 0 and layers[i - 1]["kind"] == "dense":
                shape = numpy_helper.from_array(np.array([-1, *l["input"]], np.int64), f"s{i}")
                inits.append(shape); nodes.append(helper.make_node("Reshape", [x, f"s{i}"], [f"r{i}"])); x = f"r{i}"
            kh, kw, stride, pad, out_pad = l["params"]
            op = "Conv" if l["kind"] == "conv2d" else "ConvTranspose"
            attrs = dict(kernel_shape=[kh, kw], strides=[stride, stride], pads=[pad, pad, pad, pad])
            if op == "ConvTranspose": attrs["output_padding"] = [out_pad, out_pad]
            inits += [numpy_helper.from_array(l["weight"], w), numpy_helper.from_array(l["bias"], b)]
            nodes.append(helper.make_node(op, [x, w, b], [f"y{i}"], **attrs))
        x = f"y{i}"
        if l["activation"] != "identity":
            nodes.append(helper.make_node({"relu": "Relu", "sigmoid": "Sigmoid"}[l["activation"]], [x], [f"a{i}"])); x = f"a{i}"
    nodes.append(helper.make_node("Identity", [x], ["x"]))
    g = helper.make_graph(nodes, stack, [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", *input_shape])],
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()

def torch_model():
    import torch, torch.nn as nn
    mods = []
    for i, l in enumerate(layers):
        if l["kind"] == "dense":
            if mods and l["input"][1] * l["input"][2] > 1: mods.append(nn.Flatten())
            m = nn.Linear(*l["weight"].shape); m.weight.data = torch.tensor(l["weight"].T.copy())
        else:
            if i > 0 and layers[i - 1]["kind"] == "dense": mods.append(nn.Unflatten(1, tuple(l["input"])))
            kh, kw, stride, pad, out_pad = l["params"]
            w = l["weight"]
            if l["kind"] == "conv2d": m = nn.Conv2d(w.shape[1], w.shape[0], (kh, kw), stride, pad)
            else: m = nn.ConvTranspose2d(w.shape[0], w.shape[1], (kh, kw), stride, pad, out_pad)
            m.weight.data = torch.tensor(w.copy())
        m.bias.data = torch.tensor(l["bias"].copy()); mods.append(m)
        if l["activation"] == "relu": mods.append(nn.ReLU())
        if l["activation"] == "sigmoid": mods.append(nn.Sigmoid())
    return nn.Sequential(*mods).eval()

def quantized(graph):
    import tempfile, os
    from onnxruntime.quantization import quantize_dynamic, QuantType
    with tempfile.TemporaryDirectory() as d:
        open(f"{d}/f32.onnx", "wb").write(graph)
        quantize_dynamic(f"{d}/f32.onnx", f"{d}/int8.onnx", weight_type=QuantType.QInt8)
        return open(f"{d}/int8.onnx", "rb").read()

def bound(session, z):
    """A call of `session` on `z` through IO binding, output preallocated by a first run."""
    out = session.run(None, {"z": z})[0]
    binding = session.io_binding()
    binding.bind_cpu_input("z", z)
    binding.bind_output("x", "cpu", 0, np.float32, out.shape, out.ctypes.data)
    return lambda _: session.run_with_iobinding(binding)

import onnxruntime as ort
graph = onnx_model()
rng = np.random.default_rng(0)
if int8:
    graphs = {"f32": graph, "int8": quantized(graph)}
    for threads in (1, 2):
        so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
        sessions = {k: ort.InferenceSession(g, so, providers=["CPUExecutionProvider"]) for k, g in graphs.items()}
        for batch in batches:
            shape = (batch, *input_shape)
            z = rng.random(shape, dtype=np.float32) if stack == "encoder" else rng.standard_normal(shape, dtype=np.float32)
            r = {k: bench(bound(s, z), z) for k, s in sessions.items()}
            print(f"peers {sys.argv[2]} threads {threads} batch {batch}: onnxruntime-f32 {r['f32']:.0f} img/s onnxruntime-int8 {r['int8']:.0f} img/s", flush=True)
    sys.exit(0)

import torch
net = torch_model()
for threads in (1, 2):
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    session = ort.InferenceSession(graph, so, providers=["CPUExecutionProvider"])
    torch.set_num_threads(threads)
    for batch in batches:
        shape = (batch, *input_shape)
        z = rng.random(shape, dtype=np.float32) if stack == "encoder" else rng.standard_normal(shape, dtype=np.float32)
        o = bench(lambda a: session.run(None, {"z": a}), z)
        with torch.inference_mode():
            p = bench(lambda a: net(a), torch.tensor(z))
        print(f"peers {sys.argv[2]} threads {threads} batch {batch}: onnxruntime {o:.0f} img/s pytorch {p:.0f} img/s", flush=True)
