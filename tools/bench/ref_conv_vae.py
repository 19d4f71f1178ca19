"""Peer reference: vaert's conv VAE (`vae-train --model conv-vae`) trained in PyTorch on Fashion-MNIST.

The same layers: Conv2d(1, 32, 4, 2, 1) ReLU, Conv2d(32, 64, 4, 2, 1) ReLU, Linear(3136, 40) (mu, then
log variance); Linear(20, 3136) ReLU, ConvTranspose2d(64, 32, 4, 2, 1) ReLU, ConvTranspose2d(32, 1, 4, 2, 1)
to logits; Bernoulli likelihood, batch 128, Adam 1e-3. Prints per-epoch wall time and test negative ELBO
(nats/image) in ref_vae.py's format.
Usage: python ref_conv_vae.py [epochs] [threads] [train_limit]
"""
import sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

from idx_data import FOLDER as D, idx

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
torch.set_num_threads(threads); torch.manual_seed(0)
xtr = torch.tensor(idx(f"{D}/train-images-idx3-ubyte.gz")[:limit].reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
xte = torch.tensor(idx(f"{D}/t10k-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28), dtype=torch.float32) / 255

class ConvVAE(nn.Module):
    def __init__(s, z=20):
        super().__init__()
        s.z = z
        s.enc = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(3136, 2 * z))
        s.dec = nn.Sequential(nn.Linear(z, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                              nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1))
    def forward(s, x):
        code = s.enc(x); mu, lv = code[:, :s.z], code[:, s.z:]
        z = mu + torch.randn_like(mu) * torch.exp(lv / 2)
        return s.dec(z), mu, lv

def neg_elbo(m, x):
    logits, mu, lv = m(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
    return rec, kl

m = ConvVAE(); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
for ep in range(epochs):
    t = time.perf_counter(); perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 128):
        x = xtr[perm[i:i+128]]
        rec, kl = neg_elbo(m, x); loss = rec + kl
        opt.zero_grad(); loss.backward(); opt.step()
    dt = time.perf_counter() - t
    with torch.no_grad():
        r = k = 0.0
        for i in range(0, len(xte), 1000):
            a, b = neg_elbo(m, xte[i:i+1000]); r += a.item(); k += b.item()
    print(f"epoch {ep+1} train_s {dt:.2f} test_neg_elbo {(r+k)/len(xte):.2f} rec {r/len(xte):.2f} kl {k/len(xte):.2f}", flush=True)
