"""The RGB VAE fixtures (Tests/Fixtures/pytorch/rgb_*, written by make_fixtures.py) imported three ways
(both torch.onnx exporters, safetensors + JSON) and run through libvaert's C API: prints the largest
difference from PyTorch's pixels and from its mu and log-variance. Needs numpy and tools/build-lib.sh to
have run; no torch (the PyTorch outputs are in the fixtures).
Usage: python tools/pytorch/onnx_parity.py
"""
import ctypes, os, subprocess, tempfile
import numpy as np

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
fixtures = f"{root}/Tests/Fixtures/pytorch"
lib = ctypes.CDLL(f"{root}/.build/vaert/lib/libvaert.so")
export = f"{root}/.build/release/export-weights"
z = np.fromfile(f"{fixtures}/rgb_decoder_z.bin", np.float32).reshape(-1, 16)
pixels = np.fromfile(f"{fixtures}/rgb_decoder_expected.bin", np.float32)
x = np.fromfile(f"{fixtures}/rgb_encoder_x.bin", np.float32)
moments = np.fromfile(f"{fixtures}/rgb_encoder_expected.bin", np.float32).reshape(len(z), 32)
work = tempfile.mkdtemp()
pointer = lambda a: a.ctypes.data_as(ctypes.c_void_p)
for name, args in [("dynamo", ["--encoder", f"{fixtures}/rgb_encoder_dynamo.onnx", "--decoder", f"{fixtures}/rgb_decoder_dynamo.onnx"]),
                   ("legacy", ["--encoder", f"{fixtures}/rgb_encoder_legacy.onnx", "--decoder", f"{fixtures}/rgb_decoder_legacy.onnx"]),
                   ("safetensors + JSON", [f"{fixtures}/rgb_vae.safetensors", "--arch", f"{fixtures}/rgb_vae.json"])]:
    path = f"{work}/m.vaert"
    subprocess.run([export, *args, "--out", path], check=True, stdout=subprocess.DEVNULL)
    model = ctypes.c_void_p()
    assert lib.vaert_open_file(path.encode(), ctypes.byref(model)) == 0
    out = np.zeros_like(pixels)
    mu, logvar = np.zeros((len(z), 16), np.float32), np.zeros((len(z), 16), np.float32)
    assert lib.vae_decode(model, pointer(z), ctypes.c_size_t(len(z)), pointer(out)) == 0
    assert lib.vae_encode(model, pointer(x), ctypes.c_size_t(len(z)), pointer(mu), pointer(logvar)) == 0
    lib.vaert_close(model)
    print(f"{name}: pixels within {np.abs(out - pixels).max():.1e} of PyTorch, mu {np.abs(mu - moments[:, :16]).max():.1e}, "
          f"log-variance {np.abs(logvar - moments[:, 16:]).max():.1e}")
