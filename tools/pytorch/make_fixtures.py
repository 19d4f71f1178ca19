"""Writes the PyTorch fixtures of vaert's import tests (Tests/Fixtures/pytorch/), so that CI checks
parity with PyTorch without installing it. Needs torch and safetensors (../shared/bench/setup-peers.sh).

  course_small.*   the course's VAE layout (fc1..fc5, names only, no description) at a small size
  conv_decoder.*   Linear -> Unflatten -> ConvTranspose2d (output_padding 1) -> ConvTranspose2d, with a JSON description
Each comes with latent vectors (*_z.bin, float32) and PyTorch's decoded pixels (*_expected.bin, float32).
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
print("fixtures written to", out)
