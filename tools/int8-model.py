"""An independent model of vaert's int8 path, from WEIGHTS_FORMAT.md and Int8GemmKernel's contract alone:
each dense layer over int8 panels quantizes its input rows (scale = max|x| / 127, q = round half to even
of x * (127 / max|x|), in float32), sums q_x * q_w exactly in integers, then computes in float32
float(sum) * (row_scale * column_scale) + bias and the activation. Other layers run in float32.

  python3 tools/int8-model.py LIBVAERT MODEL [COUNT]
decodes COUNT (default 1000) seeded latent vectors and encodes COUNT seeded images (μ) with libvaert
(through ctypes) and with this model, and prints the largest differences; exits 1 above 1e-6 (relative
above 1)."""
import ctypes, sys
import numpy as np
sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/bench")
import vaert_file

def quantize(x):
    top = np.abs(x).max(axis=1, keepdims=True).astype(np.float32)
    safe = np.where(top > 0, top, np.float32(1))
    q = np.rint(x * (np.float32(127) / safe)).astype(np.int32)
    return np.where(top > 0, q, 0), np.where(top > 0, top / np.float32(127), np.float32(0)).astype(np.float32)

def activation(name, v):
    if name == "relu": return np.maximum(v, np.float32(0))
    if name == "sigmoid": return (np.float32(1) / (np.float32(1) + np.exp(-v))).astype(np.float32)
    return v

def run(layers, stack, x):
    for layer in layers:
        if layer["stack"] != stack: continue
        if layer["int8"] is not None:
            wq, column_scales = layer["int8"]
            q, row_scales = quantize(x)
            sums = (q.astype(np.int64) @ wq.astype(np.int64)).astype(np.float32)
            v = sums * (row_scales * column_scales[None, :])
        else:
            v = (x.astype(np.float64) @ layer["weight"].astype(np.float64)).astype(np.float32)
        if layer["bias"] is not None: v = v + layer["bias"]
        x = activation(layer["activation"], v.astype(np.float32))
    return x

def main():
    lib_path, model = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    layers = vaert_file.read(model)
    lib = ctypes.CDLL(lib_path)
    handle = ctypes.c_void_p()
    assert lib.vaert_open_file(model.encode(), ctypes.byref(handle)) == 0
    pointer = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    rng = np.random.default_rng(7)
    decoder = [l for l in layers if l["stack"] == "decoder"]
    encoder = [l for l in layers if l["stack"] == "encoder"]
    latent, pixels = decoder[0]["weight"].shape[0], decoder[-1]["weight"].shape[1]
    z = rng.standard_normal((count, latent)).astype(np.float32)
    out = np.zeros((count, pixels), np.float32)
    assert lib.vae_decode(handle, pointer(z), ctypes.c_size_t(count), pointer(out)) == 0
    # Relative to the value where it exceeds 1: the float32 layers' sums are rounded in another order.
    differ = lambda a, b: float((np.abs(a - b) / np.maximum(1, np.abs(b))).max())
    worst = differ(out, run(layers, "decoder", z))
    report = [f"decode: {sum(l['int8'] is not None for l in decoder)} int8 panel layers, largest difference {worst:.3g}"]
    if encoder:
        images = rng.random((count, pixels), dtype=np.float32)
        mu, logvar = np.zeros((count, latent), np.float32), np.zeros((count, latent), np.float32)
        assert lib.vae_encode(handle, pointer(images), ctypes.c_size_t(count), pointer(mu), pointer(logvar)) == 0
        difference = differ(mu, run(layers, "encoder", images)[:, :latent])
        report.append(f"encode: {sum(l['int8'] is not None for l in encoder)} int8 panel layers, largest difference in mu {difference:.3g}")
        worst = max(worst, difference)
    print(f"int8 model, {count} rows; " + "; ".join(report))
    sys.exit(0 if worst <= 1e-6 else 1)

main()
