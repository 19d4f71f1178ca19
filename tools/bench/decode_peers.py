"""Decode throughput of ONNX Runtime and PyTorch eager on the decoder of a vaert weights file (the same
weights: the graph is built from the file by vaert_file.py). Prints img/s at batch 1, 64 and 256 with
1 and 2 threads.  Usage: python decode_peers.py MODEL.vaert [SECONDS]"""
import sys, time
import numpy as np
import vaert_file

layers = [l for l in vaert_file.read(sys.argv[1]) if l["stack"] == "decoder"]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
latent = layers[0]["weight"].shape[0] if layers[0]["kind"] == "dense" else int(np.prod(layers[0]["input"]))

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
            if l["input"][1] * l["input"][2] > 1 and i > 0 and layers[i - 1]["kind"] == "dense":
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
    g = helper.make_graph(nodes, "decoder", [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", latent])],
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

import onnxruntime as ort, torch
graph, net = onnx_model(), torch_model()
rng = np.random.default_rng(0)
for threads in (1, 2):
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    session = ort.InferenceSession(graph, so, providers=["CPUExecutionProvider"])
    torch.set_num_threads(threads)
    for batch in (1, 64, 256):
        z = rng.standard_normal((batch, latent), dtype=np.float32)
        o = bench(lambda a: session.run(None, {"z": a}), z)
        with torch.inference_mode():
            p = bench(lambda a: net(a), torch.tensor(z))
        print(f"peers threads {threads} batch {batch}: onnxruntime {o:.0f} img/s pytorch {p:.0f} img/s", flush=True)
