"""Writes the PyTorch fixtures of vaert's import tests (Tests/Fixtures/pytorch/), so that CI checks
parity with PyTorch without installing it. Needs torch and safetensors (../shared/bench/setup-peers.sh).

  course_small.*   the course's VAE layout (fc1..fc5, names only, no description) at a small size
  conv_decoder.*   Linear -> Unflatten -> ConvTranspose2d (output_padding 1) -> ConvTranspose2d, with a JSON description
  rgb_decoder.*    in the style of the popular PyTorch VAE collections, on 3x64x64 in [-1, 1]: Linear -> view to
                   512x2x2 -> five [ConvTranspose2d, BatchNorm2d, LeakyReLU] stages -> Conv2d -> Tanh (the fifth
                   stage is their "final layer"), as ONNX from both exporters (rgb_decoder_dynamo.onnx with its
                   .onnx.data sidecar, rgb_decoder_legacy.onnx inline)
  rgb_encoder.*    the matching encoder: five [Conv2d, BatchNorm2d, ELU] stages (SiLU in the third) -> flatten ->
                   fc_mu, fc_var (two outputs), as ONNX from both exporters
  rgb_vae.*        both as one safetensors state dict with a JSON description
Each comes with its inputs (*_z.bin or *_x.bin, float32) and PyTorch's outputs (*_expected.bin, float32; the
encoder's are mu then log-variance per image). BatchNorm's running statistics are set away from the identity.
Usage: python tools/pytorch/make_fixtures.py [OUT_DIR]
"""
import json, sys, os
import numpy as np, torch, torch.nn as nn
from safetensors.torch import save_file

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../Tests/Fixtures/pytorch")
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)

def save(name, state, z, pixels):
    save_file({k: v.contiguous() for k, v in state.items()}, f"{out}/{name}.safetensors")
    z.numpy().astype(np.float32).tofile(f"{out}/{name}_z.bin")
    pixels.numpy().astype(np.float32).tofile(f"{out}/{name}_expected.bin")

# The course's VAE naming at 784-32-6.
class Course(nn.Module):
    def __init__(s, i=784, h=32, z=6):
        super().__init__()
        s.fc1 = nn.Linear(i, h); s.fc2 = nn.Linear(h, z); s.fc3 = nn.Linear(h, z); s.fc4 = nn.Linear(z, h); s.fc5 = nn.Linear(h, i)
    def decode(s, z): return torch.sigmoid(s.fc5(torch.relu(s.fc4(z))))
m = Course()
z = torch.randn(64, 6)
with torch.no_grad():
    save("course_small", m.state_dict(), z, m.decode(z))

# A convolutional decoder: 20 -> 16x7x7 -> ConvT(16->8, k4, s2, p1, output_padding 1) -> 8x15x15 -> ConvT(8->1, k4, s2, p1) -> 1x30x30.
dec = nn.Sequential(nn.Linear(20, 16 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (16, 7, 7)),
                    nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1, output_padding=1), nn.ReLU(),
                    nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Sigmoid())
z = torch.randn(64, 20)
with torch.no_grad():
    save("conv_decoder", dec.state_dict(), z, dec(z))
arch = {"kind": "vae", "image": [1, 30, 30], "latent": 20, "decoder": [
    {"type": "linear", "name": "0", "activation": "relu"},
    {"type": "unflatten", "shape": [16, 7, 7]},
    {"type": "conv_transpose2d", "name": "3", "stride": 2, "padding": 1, "output_padding": 1, "activation": "relu"},
    {"type": "conv_transpose2d", "name": "5", "stride": 2, "padding": 1, "activation": "sigmoid"}]}
with open(f"{out}/conv_decoder.json", "w") as f:
    json.dump(arch, f, indent=2)

def randomize_batchnorm(model):
    """Running statistics and affine parameters away from the identity, so that folding is tested."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c) * 0.3)
            m.running_var.copy_(torch.rand(c) * 1.5 + 0.3)
            m.weight.data.copy_(torch.rand(c) + 0.5)
            m.bias.data.copy_(torch.randn(c) * 0.2)

def export_onnx(model, example, name, input_name, output_names):
    """Both torch.onnx exporters: the default (dynamo, weights in a .onnx.data sidecar) and the legacy one
    (weights inline, `view` as a Shape/Gather/Unsqueeze/Concat chain), each with a dynamic batch."""
    torch.onnx.export(model, (example,), f"{out}/{name}_dynamo.onnx", dynamo=True, external_data=True,
                      input_names=[input_name], output_names=output_names,
                      dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, opset_version=18)
    torch.onnx.export(model, (example,), f"{out}/{name}_legacy.onnx", dynamo=False, opset_version=13,
                      input_names=[input_name], output_names=output_names,
                      dynamic_axes={input_name: {0: "batch"}, **{o: {0: "batch"} for o in output_names}})

class RGBDecoder(nn.Module):
    def __init__(s, latent=16, widths=(512, 32, 32, 16, 16, 16)):
        super().__init__()
        s.decoder_input = nn.Linear(latent, widths[0] * 4)
        stages = []
        for a, b in zip(widths[:-1], widths[1:]):
            stages += [nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        s.decoder = nn.Sequential(*stages)
        s.final = nn.Sequential(nn.Conv2d(widths[-1], 3, 3, padding=1), nn.Tanh())
        s.first = widths[0]
    def forward(s, x):
        # view(x.size(0), ...) as many repositories write it: the legacy exporter makes a Shape/Gather chain of it.
        return s.final(s.decoder(s.decoder_input(x).view(x.size(0), s.first, 2, 2)))

class RGBEncoder(nn.Module):
    def __init__(s, latent=16, widths=(3, 16, 16, 32, 32, 64)):
        super().__init__()
        stages = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            stages += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.BatchNorm2d(b), nn.SiLU() if i == 2 else nn.ELU()]
        s.encoder = nn.Sequential(*stages)
        s.fc_mu = nn.Linear(widths[-1] * 4, latent)
        s.fc_var = nn.Linear(widths[-1] * 4, latent)
    def forward(s, x):
        h = torch.flatten(s.encoder(x), start_dim=1)
        return s.fc_mu(h), s.fc_var(h)

dec = RGBDecoder().eval()
randomize_batchnorm(dec)
z = torch.randn(8, 16)
with torch.no_grad():
    z.numpy().astype(np.float32).tofile(f"{out}/rgb_decoder_z.bin")
    dec(z).numpy().astype(np.float32).tofile(f"{out}/rgb_decoder_expected.bin")
export_onnx(dec, z, "rgb_decoder", "z", ["image"])
steps = [{"type": "linear", "name": "decoder_input"}, {"type": "unflatten", "shape": [512, 2, 2]}]
for i in range(5):
    steps += [{"type": "conv_transpose2d", "name": f"decoder.{3 * i}", "stride": 2, "padding": 1, "output_padding": 1},
              {"type": "batchnorm", "name": f"decoder.{3 * i + 1}", "activation": "leaky_relu", "negative_slope": 0.2}]
steps += [{"type": "conv2d", "name": "final.0", "padding": 1, "activation": "tanh"}]
decoder_steps = steps

enc = RGBEncoder().eval()
randomize_batchnorm(enc)
x = torch.rand(8, 3, 64, 64) * 2 - 1
with torch.no_grad():
    mu, logvar = enc(x)
    # One state dict of both (their names do not clash), described by rgb_vae.json.
    state = {**enc.state_dict(), **dec.state_dict()}
    save_file({k: v.contiguous() for k, v in state.items()}, f"{out}/rgb_vae.safetensors")
    x.numpy().astype(np.float32).tofile(f"{out}/rgb_encoder_x.bin")
    torch.cat([mu, logvar], 1).numpy().astype(np.float32).tofile(f"{out}/rgb_encoder_expected.bin")
export_onnx(enc, x, "rgb_encoder", "x", ["mu", "logvar"])
steps = []
for i in range(5):
    steps += [{"type": "conv2d", "name": f"encoder.{3 * i}", "stride": 2, "padding": 1},
              {"type": "batchnorm", "name": f"encoder.{3 * i + 1}", "activation": "silu" if i == 2 else "elu"}]
steps += [{"type": "heads", "mu": "fc_mu", "logvar": "fc_var"}]
with open(f"{out}/rgb_vae.json", "w") as f:
    json.dump({"kind": "vae", "likelihood": "gaussian", "image": [3, 64, 64], "latent": 16, "encoder": steps, "decoder": decoder_steps}, f, indent=2)
print("fixtures written to", out)

# Graphs import must refuse, each in one line naming what is wrong (onnx_refuse_*.onnx, small, hand-built).
from onnx import helper, TensorProto, numpy_helper
def graph_file(name, nodes, inits, inputs, outputs, opset=18):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    with open(f"{out}/onnx_refuse_{name}.onnx", "wb") as f:
        f.write(m.SerializeToString())
zin = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 4])
def linear_init(n, k):
    return [numpy_helper.from_array(np.ones((n, k), np.float32), "w"), numpy_helper.from_array(np.zeros(n, np.float32), "b")]
gemm = helper.make_node("Gemm", ["z", "w", "b"], ["h"], name="fc", transB=1)
img = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 1, 4, 4])
shape = numpy_helper.from_array(np.array([-1, 1, 2, 2], np.int64), "shape")
scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
graph_file("resize", [gemm, helper.make_node("Reshape", ["h", "shape"], ["r"], name="view"),
                      helper.make_node("Resize", ["r", "", "scales"], ["y"], name="up", mode="nearest")],
           linear_init(4, 4) + [shape, scales], [zin], [img("y")])
graph_file("opset12", [gemm], linear_init(16, 4), [zin], [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", 16])], opset=12)
conv_w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "cw")
shape2 = numpy_helper.from_array(np.array([-1, 2, 2, 4], np.int64), "shape")
graph_file("grouped", [gemm, helper.make_node("Reshape", ["h", "shape"], ["r"], name="view"),
                       helper.make_node("Conv", ["r", "cw"], ["y"], name="grouped_conv", group=2, pads=[1, 1, 1, 1])],
           linear_init(16, 4) + [shape2, conv_w], [zin], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2, 2, 4])])
for name, location in [("escape", "../outside.bin"), ("absolute", "/etc/hostname")]:
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[16, 4], data_location=TensorProto.EXTERNAL)
    for k, v in [("location", location), ("offset", "0"), ("length", "256")]:
        e = w.external_data.add(); e.key, e.value = k, v
    graph_file(name, [gemm], [w, numpy_helper.from_array(np.zeros(16, np.float32), "b")], [zin],
               [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", 16])])
print("refusal graphs written to", out)

# The ops torch does not emit in the graphs above, checked against ONNX's reference evaluator: MatMul + Add,
# Gemm with transB = 0, alpha and beta, Unsqueeze of the data and Identity (onnx_ops.onnx, onnx_ops_*.bin).
from onnx.reference import ReferenceEvaluator
rng = np.random.default_rng(1)
inits = [numpy_helper.from_array(rng.standard_normal((4, 12)).astype(np.float32), "mw"),
         numpy_helper.from_array(rng.standard_normal(12).astype(np.float32), "mb"),
         numpy_helper.from_array(rng.standard_normal((12, 16)).astype(np.float32), "gw"),
         numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "gb"),
         numpy_helper.from_array(np.array([2, 3], np.int64), "axes")]
nodes = [helper.make_node("MatMul", ["z", "mw"], ["m"], name="matmul"), helper.make_node("Add", ["mb", "m"], ["a"], name="add"),
         helper.make_node("Elu", ["a"], ["e"], name="elu", alpha=0.7),
         helper.make_node("Gemm", ["e", "gw", "gb"], ["g"], name="gemm", alpha=0.5, beta=2.0),
         helper.make_node("Identity", ["g"], ["i"], name="identity"), helper.make_node("Sigmoid", ["i"], ["s"], name="sigmoid"),
         helper.make_node("Unsqueeze", ["s", "axes"], ["y"], name="unsqueeze")]
graph = helper.make_graph(nodes, "ops", [zin], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16, 1, 1])], initializer=inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
with open(f"{out}/onnx_ops.onnx", "wb") as f:
    f.write(model.SerializeToString())
zs = rng.standard_normal((5, 4)).astype(np.float32)
zs.tofile(f"{out}/onnx_ops_z.bin")
ReferenceEvaluator(model).run(None, {"z": zs})[0].astype(np.float32).tofile(f"{out}/onnx_ops_expected.bin")
print("op graph written to", out)

# The ONNX fuzz target's seeds (tools/fuzz/seeds/onnx): the same RGB decoder and encoder at a tiny size
# (8x8, two stages), from both exporters with the weights inline, and the graphs above.
seeds = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../fuzz/seeds/onnx"))
os.makedirs(seeds, exist_ok=True)
for name, model, example, names in [("decoder", RGBDecoder(latent=4, widths=(8, 4, 4)), torch.randn(2, 4), (["z"], ["image"])),
                                    ("encoder", RGBEncoder(latent=4, widths=(3, 4, 4)), torch.rand(2, 3, 8, 8), (["x"], ["mu", "logvar"]))]:
    model.eval()
    randomize_batchnorm(model)
    torch.onnx.export(model, (example,), f"{seeds}/{name}_dynamo.onnx", dynamo=True, external_data=False, input_names=names[0],
                      output_names=names[1], opset_version=18)
    torch.onnx.export(model, (example,), f"{seeds}/{name}_legacy.onnx", dynamo=False, opset_version=13, input_names=names[0],
                      output_names=names[1], dynamic_axes={n: {0: "batch"} for n in names[0] + names[1]})
import shutil
for f in os.listdir(out):
    if f.startswith("onnx_") and f.endswith(".onnx"):
        shutil.copy(f"{out}/{f}", f"{seeds}/{f}")
print("fuzz seeds written to", seeds)
