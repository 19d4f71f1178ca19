#!/usr/bin/env bash
# Trains the course's VAE (784-400-20, batch 128, Adam 1e-3, BCE) with vae-train and with PyTorch
# (../shared/bench/ref_vae.py) one after the other on this machine, and prints seconds per epoch,
# the ratio, and the final test negative ELBO of each.
# Usage: tools/bench/train-vs-pytorch.sh [EPOCHS] [THREADS] [PYTHON]
#   PYTHON defaults to the environment of ../shared/bench/setup-peers.sh (~/.cache/vaert-peers).
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-10}; threads=${2:-2}; python=${3:-$HOME/.cache/vaert-peers/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product vae-train >&2
.build/release/vae-train --epochs "$epochs" --threads "$threads" --out "$work/v.vaert" 2>"$work/vaert.err" | tee "$work/vaert.out"
"$python" ../shared/bench/ref_vae.py "$epochs" "$threads" "$work/ref.pt" | tee "$work/torch.out"
python3 - "$work" <<'PY'
import re, sys
w = sys.argv[1]
ours = [float(x) for x in re.findall(r"([0-9.]+) s\s*$", open(f"{w}/vaert.err").read(), re.M)]
torch = [float(x) for x in re.findall(r"train_s ([0-9.]+)", open(f"{w}/torch.out").read())]
elbo_ours = re.findall(r"test negative ELBO ([0-9.]+)", open(f"{w}/vaert.out").read())[-1]
elbo_torch = re.findall(r"test_neg_elbo ([0-9.]+)", open(f"{w}/torch.out").read())[-1]
a, b = sum(ours) / len(ours), sum(torch) / len(torch)
print(f"seconds per epoch: vaert {a:.2f}, PyTorch {b:.2f}; vaert/PyTorch time ratio {a / b:.2f}")
print(f"test negative ELBO after {len(ours)} epochs: vaert {elbo_ours}, PyTorch {elbo_torch}")
PY
