#!/usr/bin/env bash
# Trains a model with vae-train and with its PyTorch twin one after the other on this machine, and prints
# seconds per epoch, the ratio, and the final test negative ELBO of each:
#   vae       the course's VAE (784-400-20, batch 128, Adam 1e-3, BCE) against ../shared/bench/ref_vae.py;
#   conv-vae  the conv VAE (vae-train --model conv-vae) against tools/bench/ref_conv_vae.py.
# Usage: tools/bench/train-vs-pytorch.sh [EPOCHS] [THREADS] [MODEL] [TRAIN_LIMIT]
#   (defaults 10, 2, vae, 60000). PYTHON=... selects a Python with torch (default: the environment of
#   ../shared/bench/setup-peers.sh, ~/.cache/vaert-peers).
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-10}; threads=${2:-2}; model=${3:-vae}; limit=${4:-60000}
python=${PYTHON:-$HOME/.cache/vaert-peers/bin/python}
case $model in
    vae) peer=(../shared/bench/ref_vae.py "$epochs" "$threads") ;;
    conv-vae) peer=(tools/bench/ref_conv_vae.py "$epochs" "$threads" "$limit") ;;
    *) echo "train-vs-pytorch: MODEL is vae or conv-vae, not '$model'" >&2; exit 2 ;;
esac
[ "$model" = vae ] && [ "$limit" != 60000 ] && { echo "train-vs-pytorch: ref_vae.py trains on all 60000 images" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product vae-train >&2
.build/release/vae-train --model "$model" --epochs "$epochs" --threads "$threads" --train-limit "$limit" --out "$work/v.vaert" \
    2>"$work/vaert.err" | tee "$work/vaert.out"
"$python" "${peer[@]}" | tee "$work/torch.out"
python3 - "$work" "$model" <<'PY'
import re, sys
w, model = sys.argv[1], sys.argv[2]
ours = [float(x) for x in re.findall(r"([0-9.]+) s\s*$", open(f"{w}/vaert.err").read(), re.M)]
torch = [float(x) for x in re.findall(r"train_s ([0-9.]+)", open(f"{w}/torch.out").read())]
elbo_ours = re.findall(r"test negative ELBO ([0-9.]+)", open(f"{w}/vaert.out").read())[-1]
elbo_torch = re.findall(r"test_neg_elbo ([0-9.]+)", open(f"{w}/torch.out").read())[-1]
a, b = sum(ours) / len(ours), sum(torch) / len(torch)
print(f"{model}: seconds per epoch: vaert {a:.2f}, PyTorch {b:.2f}; vaert/PyTorch time ratio {a / b:.2f}")
print(f"{model}: test negative ELBO after {len(ours)} epochs: vaert {elbo_ours}, PyTorch {elbo_torch}")
PY
