"""Peer reference: vaert's VQ-VAE (`vae-train --model vq-vae`) trained in PyTorch on Fashion-MNIST.

The same network and objective: Conv2d(1, 32, 4, 2, 1) ReLU, Conv2d(32, 64, 4, 2, 1) to z_e, a 7 x 7
grid of 64-vectors; a codebook of 512 vectors (uniform in +-1/512) and the nearest one per position,
with the straight-through estimator; ConvTranspose2d(64, 32, 4, 2, 1) ReLU, ConvTranspose2d(32, 1, 4, 2, 1)
to logits. Loss per batch, summed over images like vaert's: BCE-with-logits + ||sg(z_e) - z_q||^2
+ beta ||z_e - sg(z_q)||^2, beta 0.25; with --ema the codebook moves by moving averages instead (decay
0.99, Laplace smoothing 1e-5, counts starting at 1). Every 100 steps, codes no vector chose since the
last check restart at random encoder outputs of the batch. Adam 1e-3, batch 128.
Prints per epoch: wall time, test reconstruction (BCE nats/image), and the perplexity and number of
codes chosen over the epoch's training batches.
Usage: python ref_vqvae.py [epochs] [threads] [--ema]
"""
import os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from idx_data import FOLDER as D, idx

args = [a for a in sys.argv[1:] if not a.startswith("--")]
epochs = int(args[0]) if len(args) > 0 else 5
threads = int(args[1]) if len(args) > 1 else 2
ema = "--ema" in sys.argv
K, DIM, BETA, DECAY, EPS, RESTART = 512, 64, 0.25, 0.99, 1e-5, 100
torch.set_num_threads(threads); torch.manual_seed(0)
xtr = torch.tensor(idx(f"{D}/train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
xte = torch.tensor(idx(f"{D}/t10k-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28), dtype=torch.float32) / 255

enc = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, DIM, 4, 2, 1))
dec = nn.Sequential(nn.ConvTranspose2d(DIM, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1))
codebook = nn.Parameter(torch.empty(K, DIM).uniform_(-1 / K, 1 / K), requires_grad=not ema)
params = list(enc.parameters()) + list(dec.parameters()) + ([] if ema else [codebook])
opt = torch.optim.Adam(params, lr=1e-3)
counts = torch.ones(K)

def quantise(ze):
    flat = ze.permute(0, 2, 3, 1).reshape(-1, DIM)              # (B*49, D), positions row-major
    d = (flat * flat).sum(1, keepdim=True) - 2 * flat @ codebook.t() + (codebook * codebook).sum(1)
    k = d.argmin(1)
    zq = codebook[k].reshape(ze.shape[0], 7, 7, DIM).permute(0, 3, 1, 2)
    return zq, k, flat

def smoothed(n):
    total = n.sum()
    return (n + EPS) / (total + K * EPS) * total

step, window = 0, torch.zeros(K)
for ep in range(epochs):
    t = time.perf_counter(); perm = torch.randperm(len(xtr)); usage = torch.zeros(K)
    for i in range(0, len(xtr), 128):
        x = xtr[perm[i:i+128]]
        ze = enc(x); zq, k, flat = quantise(ze)
        logits = dec(ze + (zq - ze).detach())
        loss = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") + BETA * ((ze - zq.detach()) ** 2).sum()
        if not ema:
            loss = loss + ((ze.detach() - zq) ** 2).sum()
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        with torch.no_grad():
            n = torch.bincount(k, minlength=K).float(); usage += n; window += n
            if ema:
                sums = torch.zeros(K, DIM).index_add_(0, k, flat.detach())
                before = smoothed(counts)
                counts.mul_(DECAY).add_((1 - DECAY) * n)
                codebook.data = (DECAY * codebook.data * before[:, None] + (1 - DECAY) * sums) / smoothed(counts)[:, None]
            if step % RESTART == 0:
                dead = (window == 0).nonzero().flatten()
                picks = torch.randint(0, flat.shape[0], (len(dead),))
                codebook.data[dead] = flat.detach()[picks]
                if ema: counts[dead] = 1
                window.zero_()
    dt = time.perf_counter() - t
    with torch.no_grad():
        rec = 0.0
        for i in range(0, len(xte), 1000):
            x = xte[i:i+1000]; zq, _, _ = quantise(enc(x))
            rec += F.binary_cross_entropy_with_logits(dec(zq), x, reduction="sum").item()
        p = usage / usage.sum(); nz = p[p > 0]
        perplexity = torch.exp(-(nz * nz.log()).sum()).item()
    print(f"epoch {ep+1} train_s {dt:.2f} test_rec {rec/len(xte):.2f} perplexity {perplexity:.1f} in_use {int((usage > 0).sum())}", flush=True)
