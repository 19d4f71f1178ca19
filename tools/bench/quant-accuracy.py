"""How far a re-encoded model (f16, int8) lies from its f32 original, through libvaert itself (ctypes):
  python3 tools/bench/quant-accuracy.py LIBVAERT REFERENCE.vaert OTHER.vaert...
For each file: the largest and mean pixel difference from REFERENCE over 1000 decodes of seeded N(0, I)
latent vectors, and the test-set negative ELBO (Bernoulli, one seeded sample of z per image, all 10,000
Fashion-MNIST test images from /usr/share/datasets/fashion-mnist) with encode and decode run by libvaert."""
import ctypes, gzip, sys
import numpy as np

lib = ctypes.CDLL(sys.argv[1])
pointer = lambda a: a.ctypes.data_as(ctypes.c_void_p)

def open_model(path):
    handle = ctypes.c_void_p()
    assert lib.vaert_open_file(path.encode(), ctypes.byref(handle)) == 0, path
    return handle

def decode(handle, z, pixels):
    out = np.zeros((z.shape[0], pixels), np.float32)
    assert lib.vae_decode(handle, pointer(z), ctypes.c_size_t(z.shape[0]), pointer(out)) == 0
    return out

def negative_elbo(handle, images, eps):
    mu, logvar = np.zeros_like(eps), np.zeros_like(eps)
    assert lib.vae_encode(handle, pointer(images), ctypes.c_size_t(images.shape[0]), pointer(mu), pointer(logvar)) == 0
    p = np.clip(decode(handle, (mu + np.exp(0.5 * logvar) * eps).astype(np.float32), images.shape[1]).astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -(images * np.log(p) + (1 - images) * np.log(1 - p)).sum(1)
    kl = -0.5 * (1 + logvar - mu.astype(np.float64) ** 2 - np.exp(logvar)).sum(1)
    return float((bce + kl).mean())

raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()
images = (np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784) / 255.0).astype(np.float32)
reference = open_model(sys.argv[2])
latent = ctypes.c_size_t()
lib.vaert_get_latent_dim(reference, ctypes.byref(latent))
rng = np.random.default_rng(0)
z = rng.standard_normal((1000, latent.value)).astype(np.float32)
eps = rng.standard_normal((images.shape[0], latent.value)).astype(np.float32)
expected = decode(reference, z, 784)
print(f"{sys.argv[2]}: test -ELBO {negative_elbo(reference, images, eps):.3f} nats")
for path in sys.argv[3:]:
    handle = open_model(path)
    difference = np.abs(decode(handle, z, 784) - expected)
    print(f"{path}: max pixel difference {difference.max():.4f}, mean {difference.mean():.5f}; "
          f"test -ELBO {negative_elbo(handle, images, eps):.3f} nats")
