"""Parity of vaert with PyTorch on the course's VAE trained by ../shared/bench/ref_vae.py, and the
precision and size of f16 and int8 storage. Runs tools/export-weights and a C program (Tests/CPrograms/
c_decode.c, linked as the README says) on 1000 random latent vectors and compares with PyTorch's decode.
Needs torch (../shared/bench/setup-peers.sh) and tools/build-lib.sh to have run.
Usage: python tools/pytorch/parity.py REF_VAE.safetensors
"""
import os, subprocess, sys, tempfile
import numpy as np, torch
from safetensors.torch import load_file

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
weights = sys.argv[1]
sd = load_file(weights)
z = torch.randn(1000, sd["fc4.weight"].shape[1], generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    reference = torch.sigmoid(torch.relu(z @ sd["fc4.weight"].T + sd["fc4.bias"]) @ sd["fc5.weight"].T + sd["fc5.bias"]).numpy()

work = tempfile.mkdtemp()
pc = os.path.join(root, ".build/vaert/lib/pkgconfig")
flags = subprocess.run(["pkg-config", "--cflags", "--libs", "vaert"], env={**os.environ, "PKG_CONFIG_PATH": pc},
                       capture_output=True, text=True, check=True).stdout.split()
subprocess.run(["cc", "-O2", os.path.join(root, "Tests/CPrograms/c_decode.c"), "-o", f"{work}/decode"] + flags, check=True)
z.numpy().astype(np.float32).tofile(f"{work}/z.bin")

def decode(dtype, extra=()):
    out = f"{work}/{dtype}.vaert"
    subprocess.run([os.path.join(root, "tools/export-weights"), weights, "--out", out, "--dtype", dtype, *extra], check=True, capture_output=True)
    subprocess.run([f"{work}/decode", out, f"{work}/z.bin", f"{work}/{dtype}.out"], check=True)
    return np.fromfile(f"{work}/{dtype}.out", np.float32).reshape(reference.shape), os.path.getsize(out)

f32, size32 = decode("f32")
print(f"f32: max |vaert - PyTorch| = {np.abs(f32 - reference).max():.2e} over {len(z)} latent vectors, {size32} bytes")
for dtype in ("f16", "int8"):
    pixels, size = decode(dtype)
    print(f"{dtype}: max |{dtype} - f32| = {np.abs(pixels - f32).max():.2e}, {size} bytes ({size / size32:.2f} of f32)")
decoder_only, size = decode("f32", ("--decoder-only",))
print(f"f32 --decoder-only: max |diff| = {np.abs(decoder_only - f32).max():.2e}, {size} bytes")

# The PyTorch ConvTranspose2d decoder of the fixtures, on 1000 latent vectors.
import torch.nn as nn
fixtures = os.path.join(root, "Tests/Fixtures/pytorch")
dec = nn.Sequential(nn.Linear(20, 16 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (16, 7, 7)),
                    nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1, output_padding=1), nn.ReLU(),
                    nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Sigmoid())
dec.load_state_dict(load_file(f"{fixtures}/conv_decoder.safetensors"))
zc = torch.randn(1000, 20, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    expected = dec(zc).numpy().reshape(1000, -1)
zc.numpy().astype(np.float32).tofile(f"{work}/zc.bin")
subprocess.run([os.path.join(root, "tools/export-weights"), f"{fixtures}/conv_decoder.safetensors", "--arch", f"{fixtures}/conv_decoder.json",
                "--out", f"{work}/conv.vaert"], check=True, capture_output=True)
subprocess.run([f"{work}/decode", f"{work}/conv.vaert", f"{work}/zc.bin", f"{work}/conv.out"], check=True)
conv = np.fromfile(f"{work}/conv.out", np.float32).reshape(expected.shape)
print(f"conv decoder (ConvTranspose2d, output_padding 1): max |vaert - PyTorch| = {np.abs(conv - expected).max():.2e} over 1000 latent vectors")
